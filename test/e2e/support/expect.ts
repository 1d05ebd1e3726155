import { expect } from 'vitest';
import type { RequestDecider } from '../../../local/gateway/index.js';
import type { LocalRuntime } from '../../../local/runtime.js';
import { requestEntry } from './audit.js';
import type { CallResult } from './http.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/**
 * The gateway itself refused the request, with this status, at this stage (the audit entry's decidedBy), answering
 * with the problem+json gateway response the stacks configure (ServiceApi's GATEWAY_PROBLEMS): no function ran.
 */
export function expectGatewayRefusal(
  runtime: LocalRuntime,
  result: CallResult,
  status: number,
  decidedBy: RequestDecider,
  label = '',
): void {
  const entry = requestEntry(runtime, result.requestId);
  expect({ label, status: result.status, decidedBy: entry.decidedBy }, result.text).toEqual({
    label,
    status,
    decidedBy,
  });
  expect(entry.status).toBe(status);
  expect(result.headers['content-type']).toBe('application/problem+json');
  const body = result.json<Record<string, unknown>>();
  expect(body).toEqual({
    type: 'about:blank',
    title: TITLES[status],
    status,
    detail: expect.any(String),
    // An invalid body's refusal also says which field failed.
    ...('validationErrors' in body ? { validationErrors: expect.any(String) } : {}),
    requestId: result.requestId,
  });
  if (status === 401) expect(result.headers['www-authenticate']).toBe('Bearer');
}

/** A handler answered with a problem+json error (the request passed every gateway check). */
export function expectHandlerProblem(
  runtime: LocalRuntime,
  result: CallResult,
  status: number,
): Record<string, unknown> {
  const entry = requestEntry(runtime, result.requestId);
  expect({ status: result.status, decidedBy: entry.decidedBy }, result.text).toEqual({
    status,
    decidedBy: 'integration',
  });
  expect(result.headers['content-type']).toBe('application/problem+json');
  const problem = result.json();
  expect(problem).toMatchObject({ type: 'about:blank', title: TITLES[status], status, detail: expect.any(String) });
  return problem;
}
