/**
 * The AWS JSON protocol (1.0 / 1.1) as the real SDK v3 clients speak it: POST / with `X-Amz-Target:
 * <prefix>.<Operation>`, a JSON body, and errors as a 4xx with `{"__type": ..., "message": ...}`. Every local
 * service (SSM, Secrets Manager, EventBridge, SQS) plugs into the one endpoint as an AwsJsonService.
 */

export class AwsServiceError extends Error {
  constructor(
    /** The error code, e.g. ParameterNotFound, ResourceNotFoundException, ValidationException. */
    readonly type: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = type;
  }
}

/** What an operation may need to know about the request besides its input (added for SQS queue URLs). */
export interface AwsRequestContext {
  /** Origin the client addressed, from the Host header, e.g. http://127.0.0.1:4510 (SQS builds queue URLs on it). */
  origin: string;
  /** The x-amzn-RequestId sent back with the response. */
  requestId: string;
  /** Access key id from the SigV4 Authorization header, when the request is signed. */
  accessKeyId?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AwsJsonOperation = (input: any, context: AwsRequestContext) => Promise<unknown> | unknown;

export interface AwsJsonService {
  /** The X-Amz-Target prefix before the dot, e.g. AmazonSSM, secretsmanager, AWSEvents, AmazonSQS. */
  targetPrefix: string;
  /** application/x-amz-json-1.1 (SSM, Secrets Manager, EventBridge) or 1.0 (SQS, DynamoDB). */
  jsonVersion: '1.0' | '1.1';
  /** Prefix of __type in errors, when the service qualifies it (SQS: "com.amazonaws.sqs#"). */
  errorTypePrefix?: string;
  /**
   * For awsQueryCompatible services (SQS): the legacy query error code of an error type, sent as
   * `x-amzn-query-error: <code>;Sender|Receiver` (the SDK maps it back to the modelled exception).
   */
  queryErrorCode?: (type: string) => string;
  operations: Record<string, AwsJsonOperation>;
}

/** A timestamp as the JSON protocols send it: epoch seconds, with a fraction. */
export function epochSeconds(date = Date.now()): number {
  return date / 1000;
}

/** Account and region the local runtime reports in ARNs. */
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/**
 * A request in the AWS REST-JSON protocol (API Gateway's control plane): no X-Amz-Target; the operation is the
 * method and path (labels URI-encoded), with query parameters and a JSON body.
 */
export interface AwsRestRequest {
  method: string;
  /** The path split on "/" with each segment URI-decoded, e.g. ['restapis', 'abc123', 'stages']. */
  segments: string[];
  query: URLSearchParams;
  /** The parsed JSON body ({} when empty). */
  body: unknown;
}

export interface AwsRestResponse {
  statusCode: number;
  /** Sent as JSON; omitted for an empty body (e.g. 202 of a Delete*). */
  body?: unknown;
}

/**
 * A service spoken over REST-JSON. `route` returns the handler for a method and path it serves, or undefined so the
 * endpoint tries the next service. Errors are AwsServiceError: sent as their status with `x-amzn-ErrorType: <type>`
 * and `{"message": ...}`, the shape the SDK's REST-JSON error parser reads.
 */
export interface AwsRestJsonService {
  name: string;
  route(
    method: string,
    segments: string[],
  ): ((request: AwsRestRequest, context: AwsRequestContext) => Promise<AwsRestResponse> | AwsRestResponse) | undefined;
}
