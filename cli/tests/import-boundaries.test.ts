import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support.js';

/**
 * The operator tools and the local runtime meet only in the client module: cli/ (outside its tests) never imports
 * local/, local/ never imports cli/, and client/ and console/ import neither (the console reads through the locator).
 * eslint.config.js says the same with no-restricted-imports; this test holds it in `npm test` too.
 */

/** The one known exception, rewired by the verifier's move to a shared module. */
const ALLOWED = new Set(['cli/commands/token.ts -> local/identity/verifier.ts']);

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The repository-relative files a source file imports (relative specifiers only; packages are not folders here). */
export function importsOf(file: string, text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (!specifier?.startsWith('.')) continue;
    const target = relative(REPO_ROOT, resolve(dirname(join(REPO_ROOT, file)), specifier))
      .split(sep)
      .join('/');
    found.push(target.replace(/\.js$/, '.ts'));
  }
  return found;
}

function sources(folder: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(REPO_ROOT, folder), { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(ts|mts|mjs|js)$/.test(entry.name)) continue;
    files.push(relative(REPO_ROOT, join(entry.parentPath, entry.name)).split(sep).join('/'));
  }
  return files;
}

const isTest = (file: string) => file.includes('/tests/') || file.endsWith('.test.ts');

function crossings(folder: string, forbidden: string[], options: { includeTests: boolean }): string[] {
  const found: string[] = [];
  for (const file of sources(folder)) {
    if (!options.includeTests && isTest(file)) continue;
    for (const target of importsOf(file, readFileSync(join(REPO_ROOT, file), 'utf8'))) {
      const edge = `${file} -> ${target}`;
      if (forbidden.some((top) => target.startsWith(`${top}/`)) && !ALLOWED.has(edge)) found.push(edge);
    }
  }
  return found;
}

describe('import boundaries', () => {
  it('recognises every form of relative import it checks', () => {
    const text = [
      "import { a } from '../../local/audit.js';",
      "import type { B } from '../../local/runtime.js';",
      "export { c } from '../../local/trace.js';",
      "import '../../local/side-effect.js';",
      "const d = await import('../../local/lazy.js');",
      "import { e } from 'zod';",
    ].join('\n');
    expect(importsOf('cli/commands/x.ts', text)).toEqual([
      'local/audit.ts',
      'local/runtime.ts',
      'local/trace.ts',
      'local/side-effect.ts',
      'local/lazy.ts',
    ]);
  });

  it('cli/ (outside its tests) does not import local/', () => {
    expect(crossings('cli', ['local'], { includeTests: false })).toEqual([]);
  });

  it('local/ does not import cli/', () => {
    expect(crossings('local', ['cli'], { includeTests: true })).toEqual([]);
  });

  it('client/ imports neither local/ nor cli/', () => {
    expect(crossings('client', ['local', 'cli'], { includeTests: true })).toEqual([]);
  });

  it('console/ (outside its tests) imports neither local/ nor cli/', () => {
    expect(crossings('console', ['local', 'cli'], { includeTests: false })).toEqual([]);
  });
});
