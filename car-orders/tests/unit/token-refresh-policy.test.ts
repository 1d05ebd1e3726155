import { describe, expect, it } from 'vitest';
import {
  decideTokenRefresh,
  isTokenUsable,
  REFRESH_AT_LIFETIME_FRACTION,
  refreshPointOf,
  TOKEN_EXPIRY_MARGIN_MS,
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

  it('keeps a token until the run nearest 75% of its lifetime', () => {
    expect(refreshPointOf(token)).toBe(45 * minute);
    expect(decideTokenRefresh(token, 0, period)).toEqual({
      refresh: false,
      refreshAt: 45 * minute,
      expiresAt: 60 * minute,
    });
    expect(decideTokenRefresh(token, 40 * minute, period).refresh).toBe(false);
    // Half a period before the 75% point is the earliest run that replaces it.
    expect(decideTokenRefresh(token, 42.5 * minute - 1, period).refresh).toBe(false);
  });

  it('refreshes at the run nearest 75% of its lifetime, and at any later run (boundary included)', () => {
    expect(decideTokenRefresh(token, 42.5 * minute, period)).toEqual({ refresh: true, reason: 'due' });
    expect(decideTokenRefresh(token, 45 * minute, period)).toEqual({ refresh: true, reason: 'due' });
    expect(decideTokenRefresh(token, 58 * minute, period)).toEqual({ refresh: true, reason: 'due' });
  });

  it('keeps a token in use within half a period of 75% of its lifetime, far from its expiry margin', () => {
    // Runs every period from an arbitrary phase: whenever a run keeps the token, it is still usable at the next
    // run, and the next run is at most half a period past the 75% point.
    const branches = { kept: 0, refreshed: 0 };
    for (let phase = 0; phase < period; phase += 7_919) {
      for (let now = phase; now < token.expiresAt; now += period) {
        const decision = decideTokenRefresh(token, now, period);
        if (!decision.refresh) {
          branches.kept++;
          expect(now + period).toBeLessThan(refreshPointOf(token) + period / 2);
          expect(isTokenUsable(token, now + period, TOKEN_EXPIRY_MARGIN_MS)).toBe(true);
        } else {
          branches.refreshed++;
        }
      }
    }
    // Both outcomes occur, so the assertion on kept tokens was actually exercised.
    expect(branches.kept).toBeGreaterThan(0);
    expect(branches.refreshed).toBeGreaterThan(0);
  });

  it('replaces a one-hour token every 45 minutes: 32 token requests a day, ceil(24 h / (0.75 x lifetime))', () => {
    let current = { issuedAt: 0, expiresAt: 60 * minute };
    const refreshedAt: number[] = [];
    // The token is issued a moment after the run that fetched it, and runs are a little late: neither moves the
    // replacement to the next run.
    for (let run = 0; run * period < 24 * 60 * minute; run++) {
      const now = run * period + 40;
      const decision = decideTokenRefresh(current, now, period);
      if (decision.refresh) {
        refreshedAt.push(now);
        current = { issuedAt: now + 150, expiresAt: now + 150 + 60 * minute };
      }
    }
    const gaps = refreshedAt.slice(1).map((at, i) => at - refreshedAt[i]!);
    expect(new Set(gaps)).toEqual(new Set([45 * minute]));
    // The first token of the day plus its replacements.
    expect(1 + refreshedAt.length).toBe(Math.ceil((24 * 60) / (REFRESH_AT_LIFETIME_FRACTION * 60)));
  });

  it('replaces a token that would be within its expiry margin by the next run', () => {
    // A 6-minute token: its 75% point (4.5 min) is more than half a period away at 0, but at the next run (5 min)
    // it would have under a minute left.
    const sixMinutes = { issuedAt: 0, expiresAt: 6 * minute };
    expect(decideTokenRefresh(sixMinutes, 0, period)).toEqual({ refresh: true, reason: 'due' });
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
