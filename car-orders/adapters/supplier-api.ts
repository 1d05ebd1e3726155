import {
  tireOrderPath,
  TireOrderView,
  type PartnerConnection,
  type PlaceTireOrderRequest,
} from '../../shared/contracts.js';
import { CORRELATION_ID_HEADER } from '../../shared/observability.js';
import { MIN_CALL_MS, type TimeBudget } from '../domain/time-budget.js';

/** The supplier cannot take the call now (network, timeout, 5xx, 429, no token): try again later. */
export class SupplierUnavailableError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SupplierUnavailableError';
  }
}

/** The supplier refused this request (a 4xx other than 401/429): retrying the same request will not help now. */
export class SupplierRejectedError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'SupplierRejectedError';
  }
}

/** One request to the supplier's API, below its base URL. */
interface SupplierCall {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

interface SupplierAnswer {
  status: number;
  text: string;
}

interface SupplierCredentials {
  connection: PartnerConnection;
  apiKey: string | undefined;
  token: string;
}

interface SupplierApiDependencies {
  connection: () => Promise<PartnerConnection>;
  /** The API key's value, for a connection that names one. */
  secret: (secretId: string, options?: { forceFetch?: boolean }) => Promise<string>;
  tokens: { accessToken(options?: { forceRefresh?: boolean; timeoutMs?: number }): Promise<string> };
  /** The longest any one call may take (SUPPLIER_TIMEOUT_MS); a caller's budget can only shorten it. */
  timeoutMs: number;
}

/**
 * Runs one step (an SSM / Secrets Manager read, a token fetch) so that the caller stops waiting for it when the
 * budget is spent. The step itself is not cancelled (the SDK call finishes in the background, harmlessly: reads
 * only, or a token write the next caller reuses), but the order function gets its time back to answer.
 */
async function withinBudget<T>(what: string, budget: TimeBudget | undefined, step: () => Promise<T>): Promise<T> {
  if (budget === undefined) return step();
  const timeoutMs = budget.callTimeoutMs(Number.POSITIVE_INFINITY, MIN_CALL_MS);
  if (timeoutMs === undefined) throw new Error(`no time left for ${what}`);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than the ${timeoutMs} ms left`)), timeoutMs);
  });
  try {
    return await Promise.race([step(), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The supplier's tire-order API. Placing is idempotent on carOrderId at the supplier (a repeat returns the
 * existing tire order with 200), so a call that is retried, by this process or the retry job, creates nothing new.
 */
export class SupplierApi {
  constructor(private readonly deps: SupplierApiDependencies) {}

  /**
   * @param budget when given, the whole exchange (reads, token fetches, both POSTs of a 401 retry) ends within it:
   *   each call's timeout is the lesser of timeoutMs and what is left, and nothing is started with less than
   *   MIN_CALL_MS left (SupplierUnavailableError: the retry job places the order later).
   */
  async placeTireOrder(
    request: PlaceTireOrderRequest,
    correlationId: string,
    budget?: TimeBudget,
  ): Promise<TireOrderView> {
    const response = await this.#exchange({ method: 'POST', path: 'orders', body: request }, correlationId, budget);
    return this.#tireOrderFrom(response, request);
  }

  /**
   * GET {supplierApi}/orders/{id} with the car maker's token and API key: the tire order as the supplier holds it,
   * or undefined when the supplier has none of that id for the car maker (its handler answers another client's
   * order like an unknown one: 404).
   * @throws SupplierUnavailableError when the supplier cannot answer now (network, timeout, 5xx, 429, 403, ...)
   */
  async findTireOrder(
    tireOrderId: string,
    correlationId: string,
    budget?: TimeBudget,
  ): Promise<TireOrderView | undefined> {
    const path = tireOrderPath(tireOrderId);
    const { status, text } = await this.#exchange({ method: 'GET', path }, correlationId, budget);
    if (status === 404) return undefined;
    if (status !== 200) throw new SupplierUnavailableError(`Supplier answered ${status} to GET ${path}`, status);
    const parsed = TireOrderView.safeParse(parseJson(text));
    if (!parsed.success || parsed.data.id !== tireOrderId) {
      throw new SupplierUnavailableError(`Supplier answered 200 to GET ${path} without that tire order`, status);
    }
    return parsed.data;
  }

  /** Reads the connection and credentials, calls, and on a 401 gets a fresh token and calls once more. */
  async #exchange(call: SupplierCall, correlationId: string, budget: TimeBudget | undefined): Promise<SupplierAnswer> {
    let credentials: SupplierCredentials;
    try {
      credentials = await this.#credentials(budget);
    } catch (error) {
      throw new SupplierUnavailableError(`Cannot call the supplier: ${(error as Error).message}`, undefined, {
        cause: error,
      });
    }
    let response = await this.#call(credentials, call, correlationId, budget);
    if (response.status === 403)
      response = await this.#retryWithRotatedApiKey(credentials, call, correlationId, budget, response);
    if (response.status === 401) {
      // The token was revoked or rotated early: get a new one (bypassing every cache) and try once more.
      try {
        credentials.token = await withinBudget('refreshing the supplier token', budget, () =>
          this.deps.tokens.accessToken(this.#tokenOptions(budget, true)),
        );
      } catch (error) {
        throw new SupplierUnavailableError(`Cannot refresh the supplier token: ${(error as Error).message}`, 401, {
          cause: error,
        });
      }
      response = await this.#call(credentials, call, correlationId, budget);
      if (response.status === 401) {
        throw new SupplierUnavailableError('The supplier refused a freshly issued token (401)', 401);
      }
    }
    return response;
  }

  /**
   * A 403 may mean the cached API key was rotated out (its deadline passed while this function still held it): read
   * the key again, bypassing the cache, and call once more only if it changed.
   */
  async #retryWithRotatedApiKey(
    credentials: SupplierCredentials,
    call: SupplierCall,
    correlationId: string,
    budget: TimeBudget | undefined,
    refused: SupplierAnswer,
  ): Promise<SupplierAnswer> {
    const secretId = credentials.connection.apiKeySecretId;
    if (secretId === undefined) return refused;
    let current: string;
    try {
      current = await withinBudget('re-reading the supplier API key', budget, () =>
        this.deps.secret(secretId, { forceFetch: true }),
      );
    } catch {
      return refused;
    }
    if (current === credentials.apiKey) return refused;
    credentials.apiKey = current;
    return this.#call(credentials, call, correlationId, budget);
  }

  async #credentials(budget: TimeBudget | undefined): Promise<SupplierCredentials> {
    const connection = await withinBudget('reading the supplier connection', budget, () => this.deps.connection());
    const apiKeySecretId = connection.apiKeySecretId;
    const apiKey =
      apiKeySecretId === undefined
        ? undefined
        : await withinBudget('reading the supplier API key', budget, () => this.deps.secret(apiKeySecretId));
    const token = await withinBudget('getting a supplier token', budget, () =>
      this.deps.tokens.accessToken(this.#tokenOptions(budget, false)),
    );
    return { connection, apiKey, token };
  }

  #tokenOptions(budget: TimeBudget | undefined, forceRefresh: boolean): { forceRefresh?: boolean; timeoutMs?: number } {
    const options: { forceRefresh?: boolean; timeoutMs?: number } = forceRefresh ? { forceRefresh } : {};
    const timeoutMs = budget?.callTimeoutMs(this.deps.timeoutMs, MIN_CALL_MS);
    if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
    return options;
  }

  async #call(
    credentials: SupplierCredentials,
    call: SupplierCall,
    correlationId: string,
    budget: TimeBudget | undefined,
  ): Promise<SupplierAnswer> {
    const timeoutMs =
      budget === undefined ? this.deps.timeoutMs : budget.callTimeoutMs(this.deps.timeoutMs, MIN_CALL_MS);
    if (timeoutMs === undefined) {
      throw new SupplierUnavailableError('Not calling the supplier: no time left in this invocation');
    }
    const headers: Record<string, string> = {
      Authorization: `Bearer ${credentials.token}`,
      Accept: 'application/json',
      [CORRELATION_ID_HEADER]: correlationId,
    };
    if (call.body !== undefined) headers['Content-Type'] = 'application/json';
    if (credentials.apiKey !== undefined) headers['x-api-key'] = credentials.apiKey;
    try {
      // One deadline for the whole exchange, body included.
      const response = await fetch(`${credentials.connection.apiUrl.replace(/\/+$/, '')}/${call.path}`, {
        method: call.method,
        headers,
        ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      const reason =
        (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message;
      throw new SupplierUnavailableError(`Supplier unreachable: ${reason}`, undefined, { cause: error });
    }
  }

  #tireOrderFrom(response: { status: number; text: string }, request: PlaceTireOrderRequest): TireOrderView {
    const { status, text } = response;
    // 403 and 404 come from the supplier's gateway (WAF, resource policy, API key, wrong URL), never from its
    // handlers about one order: the whole connection is refused, so they count as unavailable, not as a refusal of
    // this order (which would give up every queued order while, say, an allowlist is being fixed).
    if (status === 429 || status >= 500 || status === 403 || status === 404) {
      throw new SupplierUnavailableError(`Supplier answered ${status}`, status);
    }
    if (status !== 200 && status !== 201) {
      throw new SupplierRejectedError(
        `Supplier refused the tire order with ${status}: ${problemDetailOf(text)}`,
        status,
      );
    }
    const parsed = TireOrderView.safeParse(parseJson(text));
    if (!parsed.success || parsed.data.carOrderId !== request.carOrderId) {
      // A supplier answering 2xx with something else is failing; treat it like an outage and try again later.
      throw new SupplierUnavailableError(
        `Supplier answered ${status} without a tire order for ${request.carOrderId}`,
        status,
      );
    }
    return parsed.data;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The `detail` of a problem+json body, short and safe to log; never the raw body. */
function problemDetailOf(text: string): string {
  try {
    const detail = (JSON.parse(text) as { detail?: unknown }).detail;
    if (typeof detail === 'string') return detail.slice(0, 300);
  } catch {
    // not JSON
  }
  return 'no problem detail';
}
