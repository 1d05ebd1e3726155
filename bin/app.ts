#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildPlatform } from './platform.js';

// Environment-agnostic on purpose: `cdk synth` needs no credentials and makes no lookups.
const app = new App();
buildPlatform(app);
app.synth();
