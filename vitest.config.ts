import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/tests/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules/**', 'cdk.out/**', '.local/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Synth tests bundle every Lambda with esbuild; keep parallelism at the core count.
    pool: 'forks',
  },
});
