// ESLint flat config: typescript-eslint's recommended rules, the project's boundaries, and function size.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const TESTS = ['**/tests/**', 'test/**', '**/*.test.ts'];

/**
 * Import boundaries: the two companies never import each other; cli/, local/ and console/ meet only in the client
 * module (local/ may start the console: it imports console/, never the reverse).
 */
function forbid(files, patterns, message, ignores = []) {
  return {
    files,
    ignores,
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }] },
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', '.local/**', 'coverage/**', 'bench/results.json', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false, IIFEs: true }],
    },
  },
  {
    files: TESTS,
    rules: {
      'max-lines-per-function': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  forbid(
    ['car-orders/**'],
    ['**/tire-orders/**'],
    'car-orders never imports tire-orders: put the contract in shared/contracts.ts',
  ),
  forbid(
    ['tire-orders/**'],
    ['**/car-orders/**'],
    'tire-orders never imports car-orders: put the contract in shared/contracts.ts',
  ),
  {
    // What the Lambda bundles import: classic zod adds every schema type and JSON Schema to each bundle (~60 KB) and
    // its named `z` every locale (+264 KB); shared/zod.ts is zod/mini with the English messages set.
    files: ['car-orders/**/*.ts', 'tire-orders/**/*.ts', 'shared/**/*.ts'],
    ignores: [...TESTS, 'shared/zod.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value=/^zod(\\/|$)/][importKind!='type']",
          message: "import * as z from 'shared/zod.js' (zod/mini with English messages), not zod itself",
        },
      ],
    },
  },
  forbid(['local/**'], ['**/cli/**'], 'local/ never imports cli/: share through the client module'),
  forbid(['cli/**'], ['**/local/**'], 'cli/ reads the runtime through the client module, not local/ internals', TESTS),
  forbid(
    ['console/**'],
    ['**/local/**', '**/cli/**'],
    'console/ reads the platform through the ResourceLocator and the client module, not local/ or cli/',
    TESTS,
  ),
  {
    // The console's page: plain browser JavaScript, no build step.
    files: ['console/page/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['document', 'window', 'fetch', 'confirm', 'EventSource', 'Node'].map((name) => [name, 'readonly']),
      ),
    },
  },
  forbid(
    ['client/**'],
    ['**/local/**', '**/cli/**'],
    'client/ is shared by cli/ and the console: it imports neither local/ nor cli/',
  ),
);
