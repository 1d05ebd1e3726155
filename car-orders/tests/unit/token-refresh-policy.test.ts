import { describe, expect, it } from 'vitest';
import {
  decideTokenRefresh,
  isTokenUsable,
  REFRESH_AT_LIFETIME_FRACTION,
  refreshPointOf,
} from '../../domain/token-refresh-policy.js';
import { TOKEN_REFRESH_PERIOD_MS } from '../../service.js';

const minute = 60_000;
const period = TOKEN_REFRESH_PERIOD_MS; // 5 minutes
// A one-hour token issued at t=0: 75% of its lifetime is reached at 45 minutes.
const token = { issuedAt: 0, expiresAt: 60 * minute };

describe('decideTokenRefresh', () => {
  it('refreshes a missing, invalid or expired token', () => {
    expect(decideTokenRefresh(undefined, 0, period)).toEqual({ refresh: true, reason: 'missing' });
    expect(decideTokenRefresh({ issuedAt: 10, expiresAt: 10 }, 0, period)).toEqual({
      refresh: true,
      reason: 'invalid',
    });
    expect(decideTokenRefresh({ issuedAt: 10, expiresAt: Number.NaN }, 0, period)).toEqual({
      refresh: true,
      reason: 'invalid',
    });
    expect(decideTokenRefresh(token, 60 * minute, period)).toEqual({ refresh: true, reason: 'expired' });
    expect(decideTokenRefresh(token, 61 * minute, period)).toEqual({ refresh: true, reason: 'expired' });
  });

  it('keeps a token that will still be under 75% of its lifetime at the next run', () => {
    expect(refreshPointOf(token)).toBe(45 * minute);
    expect(decideTokenRefresh(token, 0, period)).toEqual({
      refresh: false,
      refreshAt: 45 * minute,
      expiresAt: 60 * minute,
    });
    // One millisecond before the last run that can still keep it.
    expect(decideTokenRefresh(token, 40 * minute - 1, period).refresh).toBe(false);
  });

  it('refreshes at the last run before the token would pass 75% of its lifetime (boundary included)', () => {
    expect(decideTokenRefresh(token, 40 * minute, period)).toEqual({ refresh: true, reason: 'due' });
    expect(decideTokenRefresh(token, 44 * minute, period)).toEqual({ refresh: true, reason: 'due' });
  });

  it('never lets a token in use pass 75% of its lifetime between runs', () => {
    // Simulate runs every period from an arbitrary phase: whenever a run keeps the token, the next run is
    // still at or before the 75% point.
    const branches = { kept: 0, refreshed: 0 };
    for (let phase = 0; phase < period; phase += 7_919) {
      for (let now = phase; now < token.expiresAt; now += period) {
        const decision = decideTokenRefresh(token, now, period);
        if (!decision.refresh) {
          branches.kept++;
          expect(now + period).toBeLessThan(token.issuedAt + REFRESH_AT_LIFETIME_FRACTION * 60 * minute);
        } else {
          branches.refreshed++;
        }
      }
    }
    // Both outcomes occur, so the assertion on kept tokens was actually exercised.
    expect(branches.kept).toBeGreaterThan(0);
    expect(branches.refreshed).toBeGreaterThan(0);
  });

  it('does not refresh more often than needed: once per token, at the last run before 75%', () => {
    let current = { issuedAt: 0, expiresAt: 60 * minute };
    const refreshedAt: number[] = [];
    for (let now = 0; now < 24 * 60 * minute; now += period) {
      const decision = decideTokenRefresh(current, now, period);
      if (decision.refresh) {
        refreshedAt.push(now);
        current = { issuedAt: now, expiresAt: now + 60 * minute };
      }
    }
    // A one-hour token is replaced by the run 40 minutes after issue (the next, at 45, would be at 75%).
    const gaps = refreshedAt.map((at, i) => at - (i === 0 ? 0 : (refreshedAt[i - 1] ?? 0)));
    expect(new Set(gaps)).toEqual(new Set([40 * minute]));
    expect(refreshedAt).toHaveLength(35);
  });

  it('works for short-lived tokens shorter than the period', () => {
    const short = { issuedAt: 0, expiresAt: 4 * minute };
    expect(decideTokenRefresh(short, 0, period)).toEqual({ refresh: true, reason: 'due' });
  });
});

describe('isTokenUsable', () => {
  it('keeps a margin before expiry', () => {
    expect(isTokenUsable(token, 58 * minute, minute)).toBe(true);
    expect(isTokenUsable(token, 59 * minute, minute)).toBe(false);
    expect(isTokenUsable(token, 61 * minute, minute)).toBe(false);
  });
});
