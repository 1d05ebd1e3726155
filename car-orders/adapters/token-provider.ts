import type { AccessToken } from '../../shared/auth/client-credentials.js';
import { isTokenUsable, TOKEN_EXPIRY_MARGIN_MS } from '../domain/token-refresh-policy.js';
import { logger } from './powertools.js';
import type { TokenSource } from './supplier-connection.js';
import type { SupplierTokenStore } from './token-store.js';

export { TOKEN_EXPIRY_MARGIN_MS };

/**
 * Gives the order functions a supplier access token: from memory while it has more than a margin left, else from
 * the SecureString the refresher keeps fresh, else (missing or expired there: the refresher is late or failing)
 * a new one fetched on demand and stored for the others. The token is never logged.
 */
export class SupplierTokenProvider {
  #cached: AccessToken | undefined;

  constructor(
    private readonly store: Pick<SupplierTokenStore, 'read' | 'write'>,
    private readonly source: TokenSource,
    private readonly now: () => number = Date.now,
    private readonly marginMs: number = TOKEN_EXPIRY_MARGIN_MS,
  ) {}

  /**
   * @param options.forceRefresh skip memory and SSM and fetch a new token: the supplier refused the current one.
   * @param options.timeoutMs the most a token request may take (the caller's remaining budget)
   */
  async accessToken(options: { forceRefresh?: boolean; timeoutMs?: number } = {}): Promise<string> {
    if (!options.forceRefresh) {
      if (this.#cached !== undefined && isTokenUsable(this.#cached, this.now(), this.marginMs)) {
        return this.#cached.accessToken;
      }
      const stored = await this.#readStored();
      if (stored !== undefined && isTokenUsable(stored, this.now(), this.marginMs)) {
        this.#cached = stored;
        return stored.accessToken;
      }
    }
    const fresh = await this.source.fetchToken(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
    this.#cached = fresh;
    try {
      await this.store.write(fresh);
    } catch (error) {
      // The token still works for this call; the refresher will store one on its next run.
      logger.warn('Could not store the new supplier token', { error: (error as Error).name });
    }
    logger.info('Fetched a supplier token on demand', {
      forced: options.forceRefresh === true,
      expiresAt: new Date(fresh.expiresAt).toISOString(),
    });
    return fresh.accessToken;
  }

  async #readStored(): Promise<AccessToken | undefined> {
    try {
      return await this.store.read();
    } catch (error) {
      logger.warn('Could not read the stored supplier token; fetching one', { error: (error as Error).name });
      return undefined;
    }
  }
}
