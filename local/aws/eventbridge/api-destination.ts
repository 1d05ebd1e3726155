import { Agent, request } from 'undici';
import { isJsonPath, selectJsonPath } from './json-path.js';

/**
 * One API destination with its OAuth client-credentials connection, invoked the way EventBridge documents it
 * (user guide: "API destinations", "Authorization methods for connections"):
 *
 * - The connection exchanges client id + secret (HTTP Basic) and its OAuth body/query/header parameters for an
 *   access token at the authorization endpoint, caches it, and refreshes it when it is within 60 s of expiry or
 *   after the endpoint answered 401 or 407.
 * - Requests carry the documented headers (User-Agent Amazon/EventBridge/ApiDestinations, Content-Type
 *   application/json; charset=utf-8, Range, Accept-Encoding, Connection: close), time out after 5 s, and leave from
 *   the configured egress address (an undici Agent with localAddress), token requests included.
 * - `*` in the endpoint is replaced, in order, by the path parameter values; header, query and path parameter
 *   values are either static or JSON paths into the event; InputPath selects the body (default: the whole event).
 * - Outcome classification: 2xx delivered; 401, 407, 409, 429, 5xx and timeouts/network errors retried
 *   ("Retries events associated with error codes 401, 407, 409, 429, and 5xx"); every other status (1xx, 3xx,
 *   other 4xx) is final and goes to the dead-letter queue. Retry-After is read (seconds or HTTP date); a negative
 *   value stops retrying.
 * - invocationRateLimitPerSecond spaces requests evenly (no burst).
 *
 * Deliberate local differences: plain http:// endpoints are allowed (loopback); the DLQ ERROR_CODE values follow
 * what AWS is observed to send (SDK_CLIENT_ERROR for endpoint failures, UNKNOWN for timeouts), since the set is
 * not documented.
 */

export type ApiDestinationHttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export interface OAuthClientCredentialsConnection {
  /** Connection name, for ARNs and error messages. */
  name?: string;
  /** The token endpoint (AuthorizationEndpoint). */
  authorizationEndpoint: string;
  clientId: string;
  clientSecret: string;
  /** HTTP method of the token request; default POST. */
  httpMethod?: 'GET' | 'POST' | 'PUT';
  /** OAuthHttpParameters.BodyParameters, sent form-encoded (e.g. grant_type, scope). Nothing is added to them. */
  bodyParameters?: Record<string, string>;
  /** OAuthHttpParameters.HeaderParameters. */
  headerParameters?: Record<string, string>;
  /** OAuthHttpParameters.QueryStringParameters. */
  queryStringParameters?: Record<string, string>;
}

/** ConnectionState values this emulation takes (public OAuth endpoint: "Connection states in EventBridge"). */
export type ConnectionState = 'AUTHORIZING' | 'AUTHORIZED' | 'DEAUTHORIZED';

/** What DescribeConnection reports about the connection (never its secret). */
export interface ConnectionView {
  name: string;
  state: ConnectionState;
  stateReason?: string;
  clientId: string;
  authorizationEndpoint: string;
  creationTime: number;
  lastModifiedTime: number;
  lastAuthorizedTime?: number;
}

export interface ApiDestinationConfig {
  /** API destination name, for its ARN; default `<rule>-<target id>`. */
  name?: string;
  /** InvocationEndpoint; each `*` is replaced by the next path parameter value. */
  endpoint: string;
  httpMethod: ApiDestinationHttpMethod;
  /** HttpParameters.PathParameterValues: JSON paths ($.detail.id) or static values. */
  pathParameterValues?: string[];
  /** HttpParameters.HeaderParameters: static values or JSON paths; a path that selects nothing omits the header. */
  headerParameters?: Record<string, string>;
  /** HttpParameters.QueryStringParameters: static values or JSON paths. */
  queryStringParameters?: Record<string, string>;
  /** InputPath: the part of the event sent as the body; default the whole event. */
  inputPath?: string;
  connection: OAuthClientCredentialsConnection;
  /** InvocationRateLimitPerSecond (1-300); unlimited when absent. */
  invocationRateLimitPerSecond?: number;
  /** Egress source address of every request to the endpoint and the token endpoint. */
  localAddress?: string;
}

export type InvocationOutcome =
  | { ok: true; status: number; url: string }
  | {
      ok: false;
      retryable: boolean;
      url: string;
      status?: number;
      errorCode: string;
      errorMessage: string;
      /** What the endpoint answered with a failure status (the first RESPONSE_BODY_LIMIT characters). */
      responseBody?: string;
      /** From a Retry-After header, in seconds; negative means "stop retrying". */
      retryAfterSeconds?: number;
    };

/** Statuses EventBridge retries for API destinations (user guide, "API destination error codes"). */
export function isRetryableStatus(status: number): boolean {
  return status === 401 || status === 407 || status === 409 || status === 429 || status >= 500;
}

const ERROR_PREFIX = 'Unable to invoke ApiDestination endpoint: ';
/** Enough for any problem detail, small enough for an SQS message attribute. */
const RESPONSE_BODY_LIMIT = 4096;
/** Proactive refresh window: "if the token expires within 60 seconds". */
const TOKEN_REFRESH_MARGIN_MS = 60_000;

interface CachedToken {
  value: string;
  expiresAt: number;
}

class TokenRequestFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export class ApiDestinationInvoker {
  private readonly dispatcher: Agent;
  private token: CachedToken | undefined;
  private tokenRequest: Promise<CachedToken> | undefined;
  private nextSlot = 0;
  private connection: OAuthClientCredentialsConnection;
  private readonly connectionTimes: { creation: number; lastModified: number; lastAuthorized?: number };
  private connectionState: { state: ConnectionState; reason?: string } = { state: 'AUTHORIZING' };
  private authorization: Promise<void> | undefined;
  /** Bumped by UpdateConnection: token requests of earlier credentials are disregarded. */
  private connectionGeneration = 0;

  /** Token requests made so far (tests assert refreshes through it). */
  tokenRequests = 0;

  constructor(
    readonly config: ApiDestinationConfig,
    private readonly options: {
      timeoutMs: number;
      /** Clock and wait used by the rate limit and token expiry; injectable for tests. */
      now?: () => number;
      sleep?: (ms: number) => Promise<void>;
    },
  ) {
    // Connection: close per request (as EventBridge sends it), so every request opens a socket from localAddress.
    // The Agent-level `localAddress` option: undici 7's connector overrides `connect.localAddress` with it, so
    // `{ connect: { localAddress } }` alone would be silently ignored.
    this.dispatcher = new Agent(config.localAddress ? { localAddress: config.localAddress } : {});
    this.connection = { ...config.connection };
    const created = this.now();
    this.connectionTimes = { creation: created, lastModified: created };
  }

  /** The connection's name: its own, or the destination's with `-connection`. */
  get connectionName(): string {
    return this.connection.name ?? `${this.config.name ?? 'api-destination'}-connection`;
  }

  describeConnection(): ConnectionView {
    const times = this.connectionTimes;
    return {
      name: this.connectionName,
      state: this.connectionState.state,
      ...(this.connectionState.reason ? { stateReason: this.connectionState.reason } : {}),
      clientId: this.connection.clientId,
      authorizationEndpoint: this.connection.authorizationEndpoint,
      creationTime: times.creation,
      lastModifiedTime: times.lastModified,
      ...(times.lastAuthorized !== undefined ? { lastAuthorizedTime: times.lastAuthorized } : {}),
    };
  }

  /**
   * UpdateConnection with new OAuth client parameters: the connection is AUTHORIZING at once, drops its token and
   * re-authorizes with the new credentials in the background: AUTHORIZED when the token endpoint issues a token,
   * DEAUTHORIZED when it refuses them. Deliveries meanwhile request their token with the new credentials.
   */
  updateConnection(update: { clientId?: string; clientSecret?: string }): ConnectionView {
    this.connection = {
      ...this.connection,
      ...(update.clientId !== undefined ? { clientId: update.clientId } : {}),
      ...(update.clientSecret !== undefined ? { clientSecret: update.clientSecret } : {}),
    };
    this.connectionTimes.lastModified = this.now();
    this.connectionState = { state: 'AUTHORIZING' };
    this.connectionGeneration++;
    this.token = undefined;
    this.tokenRequest = undefined;
    this.authorization = this.currentToken().then(
      () => undefined,
      () => undefined,
    );
    return this.describeConnection();
  }

  /** Resolves once the authorization UpdateConnection started has settled (tests). */
  async authorized(): Promise<ConnectionView> {
    await this.authorization;
    return this.describeConnection();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  async invoke(event: Record<string, unknown>): Promise<InvocationOutcome> {
    let url: string;
    let body: string | undefined;
    let headers: Record<string, string>;
    try {
      url = this.resolveUrl(event);
      body = this.resolveBody(event);
      headers = this.resolveHeaders(event);
    } catch (error) {
      return {
        ok: false,
        retryable: false,
        url: this.config.endpoint,
        errorCode: 'INVALID_PARAMETER',
        errorMessage: ERROR_PREFIX + (error as Error).message,
      };
    }

    let token: CachedToken;
    try {
      token = await this.currentToken();
    } catch (error) {
      const failure = error as TokenRequestFailure;
      return {
        ok: false,
        retryable: failure.retryable ?? true,
        url,
        errorCode: 'SDK_CLIENT_ERROR',
        errorMessage: `${ERROR_PREFIX}Connection authorization failed: ${failure.message}`,
      };
    }

    await this.acquireRateSlot();
    try {
      const response = await request(url, {
        method: this.config.httpMethod,
        headers: { ...headers, authorization: `Bearer ${token.value}` },
        body: this.config.httpMethod === 'GET' || this.config.httpMethod === 'HEAD' ? undefined : body,
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      // Drain the body so the socket is released; a failure's body says why (e.g. "Car order X not found").
      const responseText = (await response.body.text().catch(() => '')).slice(0, RESPONSE_BODY_LIMIT);
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { ok: true, status, url };
      if (status === 401 || status === 407) this.invalidateToken(token);
      const retryAfterSeconds = parseRetryAfter(response.headers['retry-after'], this.now());
      return {
        ok: false,
        retryable: isRetryableStatus(status),
        url,
        status,
        errorCode: 'SDK_CLIENT_ERROR',
        errorMessage: `${ERROR_PREFIX}The request failed because the endpoint returned HTTP status code ${status}.`,
        ...(responseText.trim() !== '' ? { responseBody: responseText } : {}),
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      };
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        return {
          ok: false,
          retryable: true,
          url,
          errorCode: 'UNKNOWN',
          errorMessage: `${ERROR_PREFIX}Timeout calling endpoint for API Destination (${this.options.timeoutMs} ms).`,
        };
      }
      return {
        ok: false,
        retryable: true,
        url,
        errorCode: 'SDK_CLIENT_ERROR',
        errorMessage: `${ERROR_PREFIX}API destination endpoint cannot be reached (${errorDetail(error)}).`,
      };
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.destroy();
  }

  private resolveUrl(event: Record<string, unknown>): string {
    const values = (this.config.pathParameterValues ?? []).map((value) =>
      resolveParameter(event, value, 'path parameter'),
    );
    let index = 0;
    let url = this.config.endpoint.replace(/\*/g, () => {
      const value = values[index++];
      if (value === undefined) throw new Error('Not enough path parameter values for the wildcards in the endpoint.');
      // Encoded, so a value can never add path segments or a query.
      return encodeURIComponent(value);
    });
    const query = Object.entries(this.config.queryStringParameters ?? {}).flatMap(([key, value]) => {
      const resolved = resolveOptionalParameter(event, value);
      return resolved === undefined ? [] : [[key, resolved] as [string, string]];
    });
    if (query.length > 0) {
      url += (url.includes('?') ? '&' : '?') + new URLSearchParams(query).toString();
    }
    return url;
  }

  private resolveBody(event: Record<string, unknown>): string {
    if (!this.config.inputPath) return JSON.stringify(event);
    const selected = selectJsonPath(event, this.config.inputPath);
    if (selected === undefined) throw new Error(`InputPath ${this.config.inputPath} selects nothing in the event.`);
    return JSON.stringify(selected);
  }

  private resolveHeaders(event: Record<string, unknown>): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.config.headerParameters ?? {})) {
      if (name.toLowerCase() === 'authorization') continue; // the connection owns Authorization
      const resolved = resolveOptionalParameter(event, value);
      if (resolved !== undefined) headers[name.toLowerCase()] = resolved;
    }
    return {
      ...headers,
      'user-agent': 'Amazon/EventBridge/ApiDestinations',
      'content-type': 'application/json; charset=utf-8',
      range: 'bytes=0-1048575',
      'accept-encoding': 'gzip,deflate',
      connection: 'close',
    };
  }

  private async currentToken(): Promise<CachedToken> {
    if (this.token && this.token.expiresAt - TOKEN_REFRESH_MARGIN_MS > this.now()) return this.token;
    // One token request at a time; concurrent deliveries share it.
    const generation = this.connectionGeneration;
    const request = (this.tokenRequest ??= this.requestToken().finally(() => {
      if (this.tokenRequest === request) this.tokenRequest = undefined;
    }));
    try {
      const token = await request;
      // A request started before an UpdateConnection neither installs its token nor decides the state.
      if (generation !== this.connectionGeneration) return token;
      this.token = token;
      this.connectionState = { state: 'AUTHORIZED' };
      this.connectionTimes.lastAuthorized = this.now();
      return token;
    } catch (error) {
      const failure = error as TokenRequestFailure;
      // A refused credential deauthorizes the connection ("cannot refresh the necessary OAuth token").
      if (failure.retryable === false && generation === this.connectionGeneration)
        this.connectionState = { state: 'DEAUTHORIZED', reason: failure.message };
      throw error;
    }
  }

  private invalidateToken(token: CachedToken): void {
    if (this.token === token) this.token = undefined;
  }

  private async requestToken(): Promise<CachedToken> {
    const connection = this.connection;
    const method = connection.httpMethod ?? 'POST';
    const url = new URL(connection.authorizationEndpoint);
    for (const [key, value] of Object.entries(connection.queryStringParameters ?? {})) url.searchParams.set(key, value);
    const form = new URLSearchParams(connection.bodyParameters ?? {});
    if (method === 'GET') form.forEach((value, key) => url.searchParams.set(key, value));
    const basic = Buffer.from(
      `${encodeURIComponent(connection.clientId)}:${encodeURIComponent(connection.clientSecret)}`,
    ).toString('base64');
    this.tokenRequests++;
    const requestedAt = this.now();
    let status: number;
    let text: string;
    try {
      const response = await request(url, {
        method,
        headers: {
          ...lowerCaseKeys(connection.headerParameters ?? {}),
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          'user-agent': 'Amazon/EventBridge/ApiDestinations',
        },
        body: method === 'GET' ? undefined : form.toString(),
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      throw new TokenRequestFailure(`authorization endpoint cannot be reached (${errorDetail(error)})`, true);
    }
    if (status < 200 || status >= 300) {
      let oauthError = '';
      try {
        const parsed = JSON.parse(text) as { error?: unknown };
        if (typeof parsed.error === 'string') oauthError = ` (${parsed.error})`;
      } catch {
        // not JSON: the status says enough
      }
      // A refused credential will not heal by retrying; an unavailable endpoint may.
      throw new TokenRequestFailure(
        `authorization endpoint answered ${status}${oauthError}`,
        status >= 500 || status === 429,
      );
    }
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new TokenRequestFailure('authorization endpoint answered with a body that is not JSON', false);
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token.length === 0) {
      throw new TokenRequestFailure('authorization endpoint answered without an access_token', false);
    }
    const expiresIn = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 3600;
    return { value: parsed.access_token, expiresAt: requestedAt + expiresIn * 1000 };
  }

  private async acquireRateSlot(): Promise<void> {
    const rate = this.config.invocationRateLimitPerSecond;
    if (!rate) return;
    const now = this.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + 1000 / rate;
    if (slot > now)
      await (this.options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(slot - now);
  }
}

function resolveParameter(event: Record<string, unknown>, value: string, what: string): string {
  const resolved = resolveOptionalParameter(event, value);
  if (resolved === undefined) throw new Error(`The ${what} ${value} selects nothing in the event.`);
  return resolved;
}

/** A static value, or the value a JSON path selects (strings as they are, anything else as JSON). */
function resolveOptionalParameter(event: Record<string, unknown>, value: string): string | undefined {
  if (!isJsonPath(value)) return value;
  const selected = selectJsonPath(event, value);
  if (selected === undefined || selected === null) return undefined;
  return typeof selected === 'string' ? selected : JSON.stringify(selected);
}

function lowerCaseKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v]));
}

function parseRetryAfter(header: string | string[] | undefined, now: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^-?\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : (date - now) / 1000;
}

function errorDetail(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = (error as { code?: string }).code ?? cause?.code;
  return code ?? (error as Error).message ?? String(error);
}
