import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/**
 * Time limits of every DynamoDB client the services and the local runtime create. Without them the SDK waits up to
 * 5 minutes of socket inactivity per attempt (and `requestTimeout` alone only logs a warning): a DynamoDB call that
 * hangs would hold a handler until its function timeout, and a runtime's own caller much longer. DynamoDB answers
 * in milliseconds; these bound a call that will never be answered. A timed-out attempt is a TimeoutError, which the
 * SDK retries like a 5xx. The local store answers a request it cannot finish sooner (its deadline, 500).
 */
export const DYNAMODB_TIMEOUTS = { connectionTimeoutMs: 2_000, requestTimeoutMs: 8_000 } as const;

/** A DynamoDBClient configured as `config` says (endpoint, region, credentials, or the environment), time-bounded. */
export function dynamoDbClient(
  config: DynamoDBClientConfig = {},
  timeouts: { connectionTimeoutMs: number; requestTimeoutMs: number } = DYNAMODB_TIMEOUTS,
): DynamoDBClient {
  return new DynamoDBClient({
    ...config,
    requestHandler: {
      connectionTimeout: timeouts.connectionTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  });
}
