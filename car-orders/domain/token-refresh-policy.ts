/**
 * When the supplier access token is replaced. The refresher runs every `periodMs`; a token must be replaced at no
 * more than REFRESH_AT_LIFETIME_FRACTION of its lifetime, and not earlier than needed: so a run refreshes only
 * when the token would pass that point before the next run.
 */

export const REFRESH_AT_LIFETIME_FRACTION = 0.75;

interface TokenLifetime {
  /** Epoch milliseconds. */
  issuedAt: number;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export type RefreshReason = 'missing' | 'invalid' | 'expired' | 'due';

type RefreshDecision =
  | { refresh: true; reason: RefreshReason }
  /** `refreshAt`: the moment the token reaches REFRESH_AT_LIFETIME_FRACTION of its lifetime. */
  | { refresh: false; refreshAt: number; expiresAt: number };

/** The moment a token reaches REFRESH_AT_LIFETIME_FRACTION of its lifetime. */
export function refreshPointOf(token: TokenLifetime): number {
  return token.issuedAt + REFRESH_AT_LIFETIME_FRACTION * (token.expiresAt - token.issuedAt);
}

/**
 * @param token the stored token's lifetime, or undefined when there is none or it cannot be read
 * @param now epoch milliseconds
 * @param periodMs how long until the refresher runs again
 */
export function decideTokenRefresh(token: TokenLifetime | undefined, now: number, periodMs: number): RefreshDecision {
  if (token === undefined) return { refresh: true, reason: 'missing' };
  if (!Number.isFinite(token.issuedAt) || !Number.isFinite(token.expiresAt) || token.expiresAt <= token.issuedAt) {
    return { refresh: true, reason: 'invalid' };
  }
  if (now >= token.expiresAt) return { refresh: true, reason: 'expired' };
  const refreshAt = refreshPointOf(token);
  if (now + periodMs >= refreshAt) return { refresh: true, reason: 'due' };
  return { refresh: false, refreshAt, expiresAt: token.expiresAt };
}

/** Whether a token can still be used for a call starting now, keeping `marginMs` before its expiry. */
export function isTokenUsable(token: TokenLifetime, now: number, marginMs: number): boolean {
  return now + marginMs < token.expiresAt;
}
