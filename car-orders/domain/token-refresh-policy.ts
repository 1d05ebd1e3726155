/**
 * When the supplier access token is replaced. The refresher runs every `periodMs` and replaces a token at the run
 * nearest REFRESH_AT_LIFETIME_FRACTION of its lifetime (within half a period of it): a one-hour token every 45
 * minutes, ceil(24 h / 45 min) = 32 token requests a day. The rest of the lifetime is the room for late or failed
 * runs: the order functions use a token until TOKEN_EXPIRY_MARGIN_MS before its expiry, and fetch one on demand
 * after that. A run also replaces a token that would leave that usable window before the next run (short-lived
 * tokens).
 */

export const REFRESH_AT_LIFETIME_FRACTION = 0.75;

/** A token is not used in its last minute: the call must still be valid when the supplier checks it. */
export const TOKEN_EXPIRY_MARGIN_MS = 60_000;

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
  if (now + periodMs / 2 >= refreshAt) return { refresh: true, reason: 'due' };
  if (!isTokenUsable(token, now + periodMs, TOKEN_EXPIRY_MARGIN_MS)) return { refresh: true, reason: 'due' };
  return { refresh: false, refreshAt, expiresAt: token.expiresAt };
}

/** Whether a token can still be used for a call starting now, keeping `marginMs` before its expiry. */
export function isTokenUsable(token: TokenLifetime, now: number, marginMs: number): boolean {
  return now + marginMs < token.expiresAt;
}
