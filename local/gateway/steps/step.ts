import type { IncomingMessage } from 'node:http';
import type { AccessTokenClaims } from '../authorizer.js';
import type { GatewayResponseType } from '../gateway-responses.js';
import type { ApiGatewayOptions, RequestDecider } from '../options.js';
import type { RouteMatch } from '../routes.js';

/**
 * One step of the gateway's request path (request-path.ts lists them in order). A step reads the request and what
 * earlier steps learnt about it, records what it learns, and either lets the request go on (undefined), refuses it
 * with a gateway response, or (the integration) answers it.
 */
export interface Step {
  /** Who decided, in the audit trail, when this step ends the request. */
  readonly decider: RequestDecider;
  run(request: GatewayRequest): StepOutcome | Promise<StepOutcome>;
}

export type StepOutcome = undefined | Refusal | Answer | 'client-gone';

export interface Refusal {
  refuse: GatewayResponseType;
  /** The message of the gateway response; its default when undefined. */
  message?: string | null;
  /** A finer decider than the step's (the throttle step tells the usage plan from the stage throttle). */
  decidedBy?: RequestDecider;
  /** The request validator's detail ($context.error.validationErrorString): which field failed and why. */
  validationErrors?: string;
  /** Close the connection after answering (an oversized body is not read further). */
  closeConnection?: boolean;
}

export interface Answer {
  answer: { statusCode: number; headers: [string, string][]; body: string };
}

/** What is known about a request so far; steps fill in the optional parts in order. */
export interface GatewayRequest {
  readonly req: IncomingMessage;
  readonly requestId: string;
  readonly extendedRequestId: string;
  /** The TCP peer: X-Forwarded-For is the client's to write, so never trusted. */
  readonly sourceIp: string;
  readonly method: string;
  /** The full path, stage included. */
  readonly path: string;
  /** Raw query string without `?`. */
  readonly query: string;
  readonly correlationId?: string;
  /** The gateway clock's time (epoch ms) when the request arrived. */
  readonly now: number;
  /** performance.now() at arrival, for the audit's latency. */
  readonly started: number;
  body?: Buffer;
  route?: { match: RouteMatch; stagePath: string };
  claims?: AccessTokenClaims;
  clientId?: string;
  apiKey?: { id: string; value: string };
  apiKeyId?: string;
}

/** The options of the gateway with its resolved identity, as every step factory receives them. */
export interface StepConfig {
  readonly options: ApiGatewayOptions;
  readonly apiId: string;
  readonly accountId: string;
  readonly region: string;
}

export function refusal(type: GatewayResponseType, extra: Omit<Refusal, 'refuse'> = {}): Refusal {
  return { refuse: type, ...extra };
}

/** The route an earlier step matched; a step placed before the route step has none (a wiring bug). */
export function routeOf(request: GatewayRequest): { match: RouteMatch; stagePath: string } {
  if (!request.route) throw new Error('This step must come after the route step');
  return request.route;
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.at(-1) : value;
}
