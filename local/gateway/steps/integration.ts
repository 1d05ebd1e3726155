import type { APIGatewayProxyEvent } from 'aws-lambda';
import { claimsForEvent } from '../authorizer.js';
import { API_GATEWAY_INTEGRATION_TIMEOUT_MS, type InvokeFunction } from '../options.js';
import { buildProxyEvent, mapProxyResult } from '../proxy-integration.js';
import { refusal, routeOf, type GatewayRequest, type Step, type StepConfig } from './step.js';

/**
 * The Lambda proxy integration: the function's response; 502 when it fails or answers malformed, 504 when it does
 * not answer within the integration timeout (29 s), the invocation then being aborted.
 */
export function integrationStep(config: StepConfig): Step {
  const timeoutMs = config.options.integrationTimeoutMs ?? API_GATEWAY_INTEGRATION_TIMEOUT_MS;
  return {
    decider: 'integration',
    async run(request) {
      const { route } = routeOf(request).match;
      const outcome = await invokeWithTimeout(
        config.options.invoke,
        route.function,
        proxyEventOf(request, config),
        timeoutMs,
      );
      if (outcome === 'timeout') return refusal('INTEGRATION_TIMEOUT');
      const mapped = outcome === 'failed' ? undefined : mapProxyResult(outcome.result);
      if (!mapped || !mapped.ok) return refusal('INTEGRATION_FAILURE');
      return { answer: { statusCode: mapped.statusCode, headers: mapped.headers, body: mapped.body } };
    },
  };
}

function proxyEventOf(request: GatewayRequest, config: StepConfig): APIGatewayProxyEvent {
  const { match, stagePath } = routeOf(request);
  const { req } = request;
  return buildProxyEvent(
    {
      method: request.method,
      path: stagePath,
      query: request.query,
      rawHeaders: req.rawHeaders,
      body: request.body ?? Buffer.alloc(0),
      sourceIp: request.sourceIp,
      protocol: `HTTP/${req.httpVersion}`,
      serverPort: req.socket.localPort ?? 0,
    },
    {
      accountId: config.accountId,
      apiId: config.apiId,
      stage: config.options.stage,
      resourceId: match.resourceId,
      resourcePath: match.route.path,
      pathParameters: match.pathParameters,
      requestId: request.requestId,
      extendedRequestId: request.extendedRequestId,
      requestTimeEpoch: request.now,
      apiKey: request.apiKey ?? null,
      claims: request.claims ? claimsForEvent(request.claims) : null,
    },
  );
}

export async function invokeWithTimeout(
  invoke: InvokeFunction,
  functionName: string,
  event: APIGatewayProxyEvent,
  timeoutMs: number,
): Promise<{ result: unknown } | 'failed' | 'timeout'> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timeout');
    }, timeoutMs);
  });
  const invocation = Promise.resolve()
    .then(() => invoke(functionName, event, { signal: controller.signal }))
    .then(
      (result): { result: unknown } => ({ result }),
      (): 'failed' => 'failed',
    );
  try {
    return await Promise.race([invocation, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
