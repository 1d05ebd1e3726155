import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { build, version as esbuildVersion, type BuildOptions } from 'esbuild';
import { lambdaBundling } from '../../shared/bundling.js';

/**
 * Builds a Lambda entry the way NodejsFunction does for AWS: the same `lambdaBundling` settings, one ESM file
 * (`index.mjs`, plus its source map) per function. A build is skipped when neither the settings nor any file
 * esbuild read for the previous build has changed.
 */

export interface LambdaBuildRequest {
  /** Handler source, relative to repoRoot (FunctionDeclaration.entry). */
  entry: string;
  /** Absolute path of the output file; it should end in .mjs so Node loads it as ESM. */
  outfile: string;
  repoRoot: string;
}

export interface LambdaBuildResult {
  outfile: string;
  /** False when the previous bundle was still up to date. */
  rebuilt: boolean;
  warnings: string[];
}

/**
 * The esbuild options for one entry: `lambdaBundling` mapped onto esbuild's API exactly as NodejsFunction maps
 * its BundlingOptions onto the esbuild CLI (`--bundle`, `--banner:js=`, `--main-fields=`, `--external:`, `--alias:`).
 */
export function lambdaEsbuildOptions(request: LambdaBuildRequest): BuildOptions {
  return {
    absWorkingDir: request.repoRoot,
    entryPoints: [resolve(request.repoRoot, request.entry)],
    outfile: request.outfile,
    bundle: true,
    format: lambdaBundling.format,
    platform: lambdaBundling.platform,
    target: lambdaBundling.target,
    minify: lambdaBundling.minify,
    sourcemap: lambdaBundling.sourcemap,
    mainFields: [...lambdaBundling.mainFields],
    banner: { js: lambdaBundling.banner },
    external: [...lambdaBundling.external],
    alias: { ...lambdaBundling.alias },
    metafile: true,
    logLevel: 'silent',
  };
}

interface BuildRecord {
  /** Hash of the options and the esbuild version: a change of either invalidates the bundle. */
  optionsKey: string;
  /** Every file esbuild read (repo-relative, as the metafile names them) with the sha256 of its content. */
  inputs: Record<string, string>;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function optionsKeyOf(options: BuildOptions): string {
  return sha256(JSON.stringify({ esbuildVersion, options }));
}

function recordPathOf(outfile: string): string {
  return `${outfile}.build.json`;
}

function isUpToDate(request: LambdaBuildRequest, optionsKey: string): boolean {
  if (!existsSync(request.outfile)) return false;
  let record: BuildRecord;
  try {
    record = JSON.parse(readFileSync(recordPathOf(request.outfile), 'utf8')) as BuildRecord;
  } catch {
    return false;
  }
  if (record.optionsKey !== optionsKey) return false;
  for (const [input, hash] of Object.entries(record.inputs)) {
    try {
      if (sha256(readFileSync(resolve(request.repoRoot, input))) !== hash) return false;
    } catch {
      return false;
    }
  }
  return true;
}

export async function buildLambda(request: LambdaBuildRequest): Promise<LambdaBuildResult> {
  if (!isAbsolute(request.outfile)) throw new Error(`outfile must be absolute: ${request.outfile}`);
  const options = lambdaEsbuildOptions(request);
  const optionsKey = optionsKeyOf(options);
  if (isUpToDate(request, optionsKey)) return { outfile: request.outfile, rebuilt: false, warnings: [] };

  mkdirSync(dirname(request.outfile), { recursive: true, mode: 0o700 });
  const result = await build(options);
  const inputs: Record<string, string> = {};
  for (const input of Object.keys(result.metafile?.inputs ?? {})) {
    // Virtual inputs (none expected with these options) cannot be checked, so they always force a rebuild.
    const path = resolve(request.repoRoot, input);
    inputs[input] = existsSync(path) ? sha256(readFileSync(path)) : 'virtual';
  }
  const record: BuildRecord = { optionsKey, inputs };
  writeFileSync(recordPathOf(request.outfile), JSON.stringify(record), { mode: 0o600 });
  return {
    outfile: request.outfile,
    rebuilt: true,
    warnings: result.warnings.map((warning) => warning.text),
  };
}
