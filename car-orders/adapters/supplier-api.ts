import { TireOrderView, type PartnerConnection, type PlaceTireOrderRequest } from '../../shared/contracts.js';
import { CORRELATION_ID_HEADER } from '../../shared/observability.js';

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

export interface SupplierApiDependencies {
  connection: () => Promise<PartnerConnection>;
  /** The API key's value, for a connection that names one. */
  secret: (secretId: string) => Promise<string>;
  tokens: { accessToken(options?: { forceRefresh?: boolean }): Promise<string> };
  timeoutMs: number;
}

/**
 * The supplier's tire-order API. Placing is idempotent on carOrderId at the supplier (a repeat returns the
 * existing tire order with 200), so a call that is retried, by this process or the retry job, creates nothing new.
 */
export class SupplierApi {
  constructor(private readonly deps: SupplierApiDependencies) {}

  async placeTireOrder(request: PlaceTireOrderRequest, correlationId: string): Promise<TireOrderView> {
    let connection: PartnerConnection;
    let apiKey: string | undefined;
    let token: string;
    try {
      connection = await this.deps.connection();
      apiKey = connection.apiKeySecretId === undefined ? undefined : await this.deps.secret(connection.apiKeySecretId);
      token = await this.deps.tokens.accessToken();
    } catch (error) {
      throw new SupplierUnavailableError(`Cannot call the supplier: ${(error as Error).message}`, undefined, {
        cause: error,
      });
    }
    let response = await this.#post(connection, apiKey, token, request, correlationId);
    if (response.status === 401) {
      // The token was revoked or rotated early: get a new one (bypassing every cache) and try once more.
      try {
        token = await this.deps.tokens.accessToken({ forceRefresh: true });
      } catch (error) {
        throw new SupplierUnavailableError(`Cannot refresh the supplier token: ${(error as Error).message}`, 401, {
          cause: error,
        });
      }
      response = await this.#post(connection, apiKey, token, request, correlationId);
      if (response.status === 401) {
        throw new SupplierUnavailableError('The supplier refused a freshly issued token (401)', 401);
      }
    }
    return this.#tireOrderFrom(response, request);
  }

  async #post(
    connection: PartnerConnection,
    apiKey: string | undefined,
    token: string,
    request: PlaceTireOrderRequest,
    correlationId: string,
  ): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Accept: 'application/json',
      [CORRELATION_ID_HEADER]: correlationId,
    };
    if (apiKey !== undefined) headers['x-api-key'] = apiKey;
    try {
      // One deadline for the whole exchange, body included.
      const response = await fetch(`${connection.apiUrl.replace(/\/+$/, '')}/orders`, {
        method: 'POST',
        headers,
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(this.deps.timeoutMs),
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${this.deps.timeoutMs} ms` : (error as Error).message;
      throw new SupplierUnavailableError(`Supplier unreachable: ${reason}`, undefined, { cause: error });
    }
  }

  #tireOrderFrom(response: { status: number; text: string }, request: PlaceTireOrderRequest): TireOrderView {
    const { status, text } = response;
    if (status === 429 || status >= 500) {
      throw new SupplierUnavailableError(`Supplier answered ${status}`, status);
    }
    if (status !== 200 && status !== 201) {
      throw new SupplierRejectedError(`Supplier refused the tire order with ${status}: ${problemDetailOf(text)}`, status);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const parsed = TireOrderView.safeParse(body);
    if (!parsed.success || parsed.data.carOrderId !== request.carOrderId) {
      // A supplier answering 2xx with something else is failing; treat it like an outage and try again later.
      throw new SupplierUnavailableError(`Supplier answered ${status} without a tire order for ${request.carOrderId}`, status);
    }
    return parsed.data;
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
