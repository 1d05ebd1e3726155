export { buildLambda, lambdaEsbuildOptions, type LambdaBuildRequest, type LambdaBuildResult } from './build.js';
export {
  AWS_EXECUTION_ENV,
  LAMBDA_TASK_ROOT,
  RESERVED_ENVIRONMENT_VARIABLES,
  executionEnvironment,
} from './environment.js';
export {
  defaultMaxEnvironments,
  FunctionPool,
  InitGate,
  MACHINE_INIT_GATE,
  MAX_ENVIRONMENTS_VARIABLE,
  type FunctionPoolStats,
  type InitOutcome,
  type Lease,
  type PooledEnvironment,
} from './pool.js';
export {
  INIT_TIMEOUT_SECONDS,
  LocalLambdaRuntime,
  functionDefinitionsOf,
  lambdaFunctionName,
  type FunctionEnvironmentStats,
  type FunctionPoolStatus,
  type InvocationResult,
  type InvokeOptions,
  type LambdaError,
  type LambdaLogSink,
  type LocalFunctionDefinition,
  type LocalLambdaRuntimeOptions,
} from './runtime.js';
