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
 * The function's stdout and stderr, batched: a worker's own stdio streams cost two thread messages per write (data
 * and flow control), and a handler writes several log lines per invocation. Writes are kept here and posted as one
 * `output` message before the invocation's result (so its lines come before its REPORT, as in CloudWatch Logs), at
 * the next turn of the event loop for writes outside an invocation, or when 64 KB have gathered.
 */
const OUTPUT_FLUSH_BYTES = 64 * 1024;
const output = { stdout: '', stderr: '', scheduled: false };

function flushOutput() {
  output.scheduled = false;
  if (output.stdout === '' && output.stderr === '') return;
  port.postMessage({ type: 'output', stdout: output.stdout, stderr: output.stderr });
  output.stdout = '';
  output.stderr = '';
}

/** @param {'stdout' | 'stderr'} name */
function captureWrites(name) {
  const stream = process[name];
  stream.write = (chunk, encoding, callback) => {
    const done = typeof encoding === 'function' ? encoding : callback;
    output[name] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (output.stdout.length + output.stderr.length >= OUTPUT_FLUSH_BYTES) flushOutput();
    else if (!output.scheduled) {
      output.scheduled = true;
      setImmediate(flushOutput);
    }
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
}
captureWrites('stdout');
captureWrites('stderr');
// A handler's own process.exit ends the thread before the next turn: its last writes go first.
process.on('exit', flushOutput);

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
  flushOutput();
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
  flushOutput();
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
    flushOutput();
    port.postMessage({ type: 'init-error', error });
    process.exit(1);
  }
  handler = module.handler;
} catch (error) {
  const payload = toLambdaError(error);
  logInvokeError(undefined, payload, 'Init Error');
  flushOutput();
  port.postMessage({ type: 'init-error', error: payload });
  process.exit(1);
}
flushOutput();
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
    flushOutput();
    port.postMessage({ type: 'result', requestId, payloadJson });
  } catch (error) {
    const payload = toLambdaError(error);
    logInvokeError(requestId, payload);
    flushOutput();
    port.postMessage({ type: 'error', requestId, error: payload });
  } finally {
    currentRequestId = undefined;
  }
});
