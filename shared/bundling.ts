/**
 * The one set of esbuild settings for every Lambda: NodejsFunction uses it to bundle for AWS, the local runtime
 * to build the workers it runs. ESM output, with a `require` shim for the CommonJS packages inside the bundle.
 */
export const LAMBDA_NODE_TARGET = 'node24';

/**
 * NODE_OPTIONS of every Lambda: the bundles ship source maps (lambdaBundling.sourcemap), so stack traces point at the
 * TypeScript. Node then parses each bundle's map when it loads it, part of the function's init (the bench measures
 * init with it).
 */
export const LAMBDA_NODE_OPTIONS = '--enable-source-maps';

export const lambdaBundling = {
  format: 'esm' as const,
  platform: 'node' as const,
  target: LAMBDA_NODE_TARGET,
  minify: true,
  sourcemap: true,
  mainFields: ['module', 'main'],
  banner:
    "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  /** Bundle the AWS SDK too, so the code that runs is the code that was tested. */
  external: [] as string[],
  /**
   * Modules replaced in every bundle, resolved from the repository root: the SDK's default credential chain by its
   * environment link, the only one that answers in Lambda (shared/lambda-credentials.ts).
   */
  alias: { '@aws-sdk/credential-provider-node': './shared/lambda-credentials.ts' } as Record<string, string>,
};
