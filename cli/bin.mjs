#!/usr/bin/env node
// The `b2b` command: registers tsx so Node runs the TypeScript sources directly, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
// The SDK's end-of-life notice for Node 20 would precede every command's output; `npm start` says it once instead.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { runCli } = await import('./main.ts');
process.exitCode = await runCli(process.argv.slice(2));
