// @ts-check
/**
 * One warm Lambda execution environment, run as a worker_threads Worker by LocalLambdaRuntime (runtime.ts, which
 * also documents the messages). Plain JavaScript so a Worker can load it without a TypeScript loader.
 *
 * Lifecycle, as in Lambda: init (egress set-up, import the bundle once, module state lives on), then one
 * invocation at a time, for as long as the runtime keeps this worker. An uncaught exception or unhandled
 * rejection ends the environment, like the Node.js Lambda runtime does.
 */
import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

if (!parentPort) throw new Error('worker.mjs runs only as a worker thread');
const port = parentPort;

/** @type {{ bundleUrl: string, egressAddress?: string, functionName: string, functionArn: string, memoryMb: number, logGroupName: string, logStreamName: string }} */
const config = workerData;

/**
 * The function's stdout and stderr, over the bootstrap's own port: a worker's stdio streams cost two thread messages
 * per write (data and flow control) and arrive in no fixed order with the port's messages. Each write is posted at
 * once, as one `output` message, so a function's lines always come before its result (and REPORT), as in CloudWatch
 * Logs, and nothing is left buffered when the worker is killed (a timeout in a busy loop) or exits.
 */
/** @param {'stdout' | 'stderr'} name */
function captureWrites(name) {
  const stream = process[name];
  stream.write = (chunk, encoding, callback) => {
    const done = typeof encoding === 'function' ? encoding : callback;
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    port.postMessage({ type: 'output', stdout: name === 'stdout' ? text : '', stderr: name === 'stderr' ? text : '' });
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
}
captureWrites('stdout');
captureWrites('stderr');

/** The error payload the Node.js Lambda runtime returns: errorType, errorMessage and the stack as `trace`. */
function toLambdaError(error) {
  if (error instanceof Error || (error && typeof error === 'object' && 'message' in error && 'name' in error)) {
    return {
      errorType: String(error.name),
      errorMessage: String(error.message),
      trace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

/** @type {string | undefined} the request in flight, for the log line of a fatal error */
let currentRequestId;

function logInvokeError(requestId, payload, label = 'Invoke Error') {
  process.stderr.write(
    `${new Date().toISOString()}\t${requestId ?? ''}\tERROR\t${label} \t${JSON.stringify(payload)}\n`,
  );
}

process.on('uncaughtException', (error) => {
  const payload = toLambdaError(error);
  logInvokeError(currentRequestId, payload, 'Uncaught Exception');
  port.postMessage({ type: 'fatal', error: payload });
  process.exit(129);
});
process.on('unhandledRejection', (reason) => {
  const message = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  const payload = {
    errorType: 'Runtime.UnhandledPromiseRejection',
    errorMessage: message,
    trace: reason instanceof Error && reason.stack ? reason.stack.split('\n') : [],
  };
  logInvokeError(currentRequestId, payload, 'Unhandled Promise Rejection');
  port.postMessage({ type: 'fatal', error: payload });
  process.exit(128);
});

// The bundle carries a source map (lambdaBundling.sourcemap); Lambda users enable it with NODE_OPTIONS.
process.setSourceMapsEnabled(true);

/** This thread's id in the operating system (Linux: /proc/thread-self), for per-function CPU figures. */
function osThreadId() {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').at(-1)) || undefined;
  } catch {
    return undefined;
  }
}

const initStarted = performance.now();
/** @type {(event: unknown, context: object) => unknown} */
let handler;
try {
  if (config.egressAddress) {
    // The function's outbound fetch() leaves from its egress address (the "NAT Elastic IP"). Node's own fetch
    // reads the dispatcher undici's setGlobalDispatcher installs. The address must be the Agent's top-level
    // `localAddress`: undici's connector overrides `connect.localAddress` with it.
    const { Agent, setGlobalDispatcher } = await import('undici');
    setGlobalDispatcher(new Agent({ localAddress: config.egressAddress }));
  }
  const module = await import(config.bundleUrl);
  if (typeof module.handler !== 'function') {
    const error = {
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'index.handler is undefined or not exported',
      trace: [],
    };
    logInvokeError(undefined, error, 'Init Error');
    port.postMessage({ type: 'init-error', error });
    process.exit(1);
  }
  handler = module.handler;
} catch (error) {
  const payload = toLambdaError(error);
  logInvokeError(undefined, payload, 'Init Error');
  port.postMessage({ type: 'init-error', error: payload });
  process.exit(1);
}
port.postMessage({ type: 'ready', initDurationMs: performance.now() - initStarted, osThreadId: osThreadId() });

port.on('message', async (message) => {
  if (message.type !== 'invoke') return;
  const { requestId, eventJson, deadline, traceId } = message;
  currentRequestId = requestId;
  process.env._X_AMZN_TRACE_ID = traceId;
  const context = {
    awsRequestId: requestId,
    functionName: config.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: config.functionArn,
    memoryLimitInMB: String(config.memoryMb),
    logGroupName: config.logGroupName,
    logStreamName: config.logStreamName,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const value = await handler(JSON.parse(eventJson), context);
    // Lambda returns the JSON serialization of the handler's result; undefined becomes null.
    const payloadJson = JSON.stringify(value) ?? 'null';
    port.postMessage({ type: 'result', requestId, payloadJson });
  } catch (error) {
    const payload = toLambdaError(error);
    logInvokeError(requestId, payload);
    port.postMessage({ type: 'error', requestId, error: payload });
  } finally {
    currentRequestId = undefined;
  }
});
