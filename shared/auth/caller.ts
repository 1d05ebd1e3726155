import type { APIGatewayProxyEvent } from 'aws-lambda';
import { HttpError } from '../http/problem.js';

/** The machine client behind a request, as the Cognito authorizer put it in requestContext.authorizer.claims. */
export interface Caller {
  clientId: string;
  scopes: string[];
}

/**
 * Reads the calling client from the authorizer claims. The gateway has already verified the token and the
 * method's scope; this refuses (401) a request that somehow arrives without them rather than trusting it.
 */
export function callerOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>): Caller {
  const claims = (event.requestContext?.authorizer as { claims?: Record<string, unknown> } | null | undefined)?.claims;
  const clientId = claims?.client_id;
  if (typeof clientId !== 'string' || clientId === '') {
    throw new HttpError(401, 'No authenticated client on the request');
  }
  const scope = claims?.scope;
  const scopes = typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
  return { clientId, scopes };
}
