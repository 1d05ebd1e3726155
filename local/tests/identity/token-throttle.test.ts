import { afterEach, describe, expect, it } from 'vitest';
import { postToken, startTestPool, TIRE_READ, type TestPool } from './helpers.js';

/** A burst on the token endpoint: past its client's or its source's bucket, 429 before any secret is hashed. */

let pool: TestPool | undefined;
afterEach(async () => {
  await pool?.cleanup();
  pool = undefined;
});

const grant = { grant_type: 'client_credentials' };

describe('token endpoint throttle', () => {
  it("answers a client's burst past its bucket with 429 Rate exceeded and Retry-After, then refills with time", async () => {
    pool = await startTestPool({
      tokenThrottle: { perClient: { rateLimit: 1, burstLimit: 3 }, perSource: { rateLimit: 100, burstLimit: 100 } },
    });
    const client = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_READ] });
    const burst = await Promise.all(
      Array.from({ length: 6 }, () => postToken(pool!.server.tokenUrl, { basic: client, form: grant })),
    );
    const statuses = burst.map((response) => response.status).sort();
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    const refused = burst.find((response) => response.status === 429)!;
    expect(refused.body).toEqual({ error: 'invalid_request', error_description: 'Rate exceeded' });
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('cache-control')).toBe('no-store');

    // Another client is not held back by this one's bucket.
    const other = await pool.server.createClient({ name: 'other', scopes: [TIRE_READ] });
    expect((await postToken(pool.server.tokenUrl, { basic: other, form: grant })).status).toBe(200);
    pool.clock.advance(1000);
    expect((await postToken(pool.server.tokenUrl, { basic: client, form: grant })).status).toBe(200);

    const throttled = pool.audit.read().filter((entry) => entry.kind === 'token' && entry.error === 'throttled');
    expect(throttled).toHaveLength(3);
    expect(throttled.every((entry) => entry.kind === 'token' && entry.clientId === client.clientId)).toBe(true);
  });

  it('answers one source past its bucket with 429 whatever the client ids it tries, known or not', async () => {
    pool = await startTestPool({
      tokenThrottle: { perClient: { rateLimit: 100, burstLimit: 100 }, perSource: { rateLimit: 1, burstLimit: 2 } },
    });
    const client = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_READ] });
    const guesses = ['guess1', 'guess2', 'guess3'].map((clientId) =>
      postToken(pool!.server.tokenUrl, { basic: { clientId, clientSecret: 'x' }, form: grant }),
    );
    const statuses = (await Promise.all(guesses)).map((response) => response.status).sort();
    expect(statuses).toEqual([400, 400, 429]);
    expect((await postToken(pool.server.tokenUrl, { basic: client, form: grant })).status).toBe(429);
    pool.clock.advance(1000);
    expect((await postToken(pool.server.tokenUrl, { basic: client, form: grant })).status).toBe(200);
  });
});
