#!/usr/bin/env node
// The `b2b` command: registers tsx so Node runs the TypeScript sources directly, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('./main.ts');
process.exitCode = await runCli(process.argv.slice(2));
