import type { Context } from 'aws-lambda';
import { readEnvironment } from '../adapters/environment.js';
import { logger } from '../adapters/powertools.js';
import { SUPPLIER_VARIABLES, supplierFromEnvironment } from '../adapters/supplier.js';
import { decideTokenRefresh, type RefreshReason } from '../domain/token-refresh-policy.js';

const env = readEnvironment([...SUPPLIER_VARIABLES, 'TOKEN_REFRESH_PERIOD_MS']);
const supplier = supplierFromEnvironment(env);

export type TokenRefreshSummary =
  | { refreshed: true; reason: RefreshReason; expiresAt: string }
  | { refreshed: false; expiresAt: string; refreshAt: string };

/**
 * Scheduled every TOKEN_REFRESH_PERIOD_MS: replaces the stored supplier token when it is missing, unreadable,
 * expired, at the run nearest 75% of its lifetime, or when it would be too close to expiry by the next run
 * (token-refresh-policy.ts). The token itself is never logged or returned.
 */
export const handler = async (_event: unknown, context: Context): Promise<TokenRefreshSummary> => {
  logger.addContext(context);
  try {
    const now = Date.now();
    const stored = await supplier.tokenStore.read();
    const decision = decideTokenRefresh(stored, now, env.TOKEN_REFRESH_PERIOD_MS);
    if (!decision.refresh) {
      const summary: TokenRefreshSummary = {
        refreshed: false,
        expiresAt: new Date(decision.expiresAt).toISOString(),
        refreshAt: new Date(decision.refreshAt).toISOString(),
      };
      logger.info('Supplier token is fresh; not refreshed', summary);
      return summary;
    }
    const { reason } = decision;
    const token = await supplier.tokenSource.fetchToken();
    await supplier.tokenStore.write(token);
    const summary: TokenRefreshSummary = {
      refreshed: true,
      reason,
      expiresAt: new Date(token.expiresAt).toISOString(),
    };
    logger.info('Supplier token refreshed', summary);
    return summary;
  } catch (error) {
    logger.error('Supplier token refresh failed', error as Error);
    throw error;
  }
};
