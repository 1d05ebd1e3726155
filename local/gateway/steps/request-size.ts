import type { IncomingMessage } from 'node:http';
import { API_GATEWAY_MAX_REQUEST_BYTES } from '../options.js';
import { refusal, type Step, type StepConfig } from './step.js';

/** A body bigger than the limit times this is not even drained before refusing: the connection is dropped. */
const DRAIN_LIMIT_FACTOR = 4;

/** API Gateway's payload limit (10 MB) -> 413. Reads the body for the later steps. */
export function requestSizeStep({ options }: StepConfig): Step {
  const limit = options.maxRequestBytes ?? API_GATEWAY_MAX_REQUEST_BYTES;
  return {
    decider: 'request-size',
    async run(request) {
      const body = await readBoundedBody(request.req, limit);
      if (body === 'aborted') return 'client-gone'; // The client went away, or was cut off; nobody to answer.
      if (body === 'too-large') return refusal('REQUEST_TOO_LARGE', { closeConnection: true });
      request.body = body;
      return undefined;
    },
  };
}

/**
 * The body, or 'too-large' past the limit. An oversized body is drained (up to a bound) before the 413 goes out,
 * so the client reads the answer instead of a reset connection; beyond the bound the connection is dropped.
 */
export async function readBoundedBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit * DRAIN_LIMIT_FACTOR) {
    req.destroy();
    return 'aborted';
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit * DRAIN_LIMIT_FACTOR) {
        req.destroy();
        return 'aborted';
      }
      if (size <= limit) chunks.push(chunk);
    }
  } catch {
    return 'aborted';
  }
  return size > limit ? 'too-large' : Buffer.concat(chunks);
}
