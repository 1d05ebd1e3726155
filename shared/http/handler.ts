import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { CORRELATION_ID_HEADER, type Powertools } from '../observability.js';
import { HttpError, problemResponse } from './problem.js';
import { headerOf } from './request.js';

const CORRELATION_ID = /^[\w.:-]{1,128}$/;

/** The caller's correlation id when it is well-formed, else API Gateway's request id. */
export function correlationIdOf(event: APIGatewayProxyEvent): string {
  const supplied = headerOf(event, CORRELATION_ID_HEADER);
  if (supplied !== undefined && CORRELATION_ID.test(supplied)) return supplied;
  return event.requestContext?.requestId ?? 'unknown';
}

type HttpRoute = (
  event: APIGatewayProxyEvent,
  context: { correlationId: string; lambdaContext: Context },
) => Promise<APIGatewayProxyResult>;

/**
 * Wraps a route: carries the correlation id into every log line and the response, turns HttpError into
 * problem+json with its status, and anything unexpected into a 500 that reveals nothing but is logged; the
 * metrics the request counted are published when it ends, whatever its outcome.
 */
export function httpHandler(
  { logger, publishMetrics }: Pick<Powertools<string>, 'logger' | 'publishMetrics'>,
  route: HttpRoute,
) {
  return async (event: APIGatewayProxyEvent, lambdaContext: Context): Promise<APIGatewayProxyResult> => {
    const correlationId = correlationIdOf(event);
    logger.addContext(lambdaContext);
    logger.appendKeys({ correlationId, requestId: event.requestContext?.requestId });
    let result: APIGatewayProxyResult;
    try {
      result = await route(event, { correlationId, lambdaContext });
    } catch (error) {
      if (error instanceof HttpError) {
        logger.info('Request refused', { status: error.status, detail: error.message });
        result = problemResponse(error.status, error.message, error.extensions);
      } else {
        logger.error('Unhandled error', error as Error);
        result = problemResponse(500, 'An unexpected error occurred; it has been logged');
      }
    } finally {
      publishMetrics();
      logger.resetKeys();
    }
    return { ...result, headers: { ...result.headers, [CORRELATION_ID_HEADER]: correlationId } };
  };
}
