import { LAMBDA_NODE_TARGET } from '../../shared/bundling.js';

/**
 * The environment a Lambda execution environment starts with: the variables the Lambda runtime defines
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
 * merged with the function's configured environment. Nothing else of the local process leaks in.
 *
 * Deliberate differences:
 * - AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN come from the execution role in AWS; locally
 *   the caller passes whatever the local AWS endpoint accepts in the function's environment.
 * - TZ is set as in AWS, but a worker thread shares its process's time zone: the local runtime process itself
 *   must run with TZ=UTC for Dates inside handlers to be UTC.
 * - AWS_LAMBDA_RUNTIME_API is not set: there is no Runtime API, workers are driven by messages.
 */

/** The task root the code would be unpacked to in AWS; handlers should not rely on it locally. */
export const LAMBDA_TASK_ROOT = '/var/task';

/** e.g. AWS_Lambda_nodejs24.x, derived from the one bundling target so the two cannot drift apart. */
export const AWS_EXECUTION_ENV = `AWS_Lambda_nodejs${LAMBDA_NODE_TARGET.replace(/^node/, '')}.x`;

/** Variables Lambda sets itself; a function configuration that tries to set one is refused, as in AWS. */
export const RESERVED_ENVIRONMENT_VARIABLES: readonly string[] = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
];

export interface ExecutionEnvironmentIdentity {
  functionName: string;
  memoryMb: number;
  region: string;
  logGroupName: string;
  /** One per execution environment (worker), like the log stream of one Lambda instance. */
  logStreamName: string;
}

export function assertNoReservedVariables(functionName: string, environment: Record<string, string>): void {
  const reserved = Object.keys(environment).filter((key) => RESERVED_ENVIRONMENT_VARIABLES.includes(key));
  if (reserved.length > 0) {
    throw new Error(
      `Function ${functionName}: environment sets reserved Lambda variable(s) ${reserved.join(', ')}; Lambda refuses that`,
    );
  }
}

export function executionEnvironment(
  identity: ExecutionEnvironmentIdentity,
  configured: Record<string, string>,
): Record<string, string> {
  return {
    // Unreserved defaults a function may override.
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    ...configured,
    // Reserved: always the runtime's values.
    _HANDLER: 'index.handler',
    AWS_REGION: identity.region,
    AWS_DEFAULT_REGION: identity.region,
    AWS_EXECUTION_ENV,
    AWS_LAMBDA_FUNCTION_NAME: identity.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(identity.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: identity.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: identity.logStreamName,
    LAMBDA_TASK_ROOT,
    LAMBDA_RUNTIME_DIR: '/var/runtime',
  };
}
