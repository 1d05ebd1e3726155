import type { APIGatewayProxyEvent } from 'aws-lambda';
import { HttpError } from '../../shared/http/problem.js';
import { headerOf, pathParameterOf } from '../../shared/http/request.js';
import { CAR_ORDER_ID } from '../service.js';

/** The {id} path parameter, refused with 400 unless it has the shape of a car order id. */
export function carOrderIdOf(event: Pick<APIGatewayProxyEvent, 'pathParameters'>): string {
  const id = pathParameterOf(event, 'id');
  const parsed = CAR_ORDER_ID.safeParse(id);
  if (!parsed.success) {
    throw new HttpError(400, `Order id ${parsed.error.issues[0]?.message ?? 'is malformed'}`);
  }
  return parsed.data;
}

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
const MAX_IDEMPOTENCY_KEY_LENGTH = 128;

/** The optional Idempotency-Key header; present but empty or longer than 128 characters is a 400. */
export function idempotencyKeyOf(event: Pick<APIGatewayProxyEvent, 'headers'>): string | undefined {
  const key = headerOf(event, IDEMPOTENCY_KEY_HEADER);
  if (key === undefined) return undefined;
  if (key.length < 1 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new HttpError(400, `${IDEMPOTENCY_KEY_HEADER} must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  return key;
}
