import type { AccessToken } from '../../shared/auth/client-credentials.js';

/**
 * How many supplier token requests a day of orders costs, simulated over 24 h on an injected clock with the car
 * maker's own code: the refresher's decision (decideTokenRefresh, as the scheduled RefreshSupplierToken runs it every
 * TOKEN_REFRESH_PERIOD_MS) and the order functions' SupplierTokenProvider (memory, then the stored SecureString,
 * then a fetch on demand), one provider per Lambda environment. The supplier's token endpoint is a counter issuing
 * tokens of the tire pool's lifetime. A call fails from an expired token when the token it was given expires before
 * the call's worst-case end (start + SUPPLIER_TIMEOUT_MS).
 */

export interface TokenEconomyFigures {
  ordersPerSecond: number;
  environments: number;
  orders: number;
  tokenRequests: number;
  onDemandRequests: number;
  bound: number;
  expiredTokenCalls: number;
}

const DAY_MS = 86_400_000;
const CALL_WORST_CASE_MS = 5_000;
/** Environments busy at once by Little's law at ~250 ms per order, at least one. */
const environmentsFor = (ordersPerSecond: number) => Math.max(1, Math.ceil(ordersPerSecond * 0.25));

export async function tokenEconomy(ordersPerSecond: number): Promise<TokenEconomyFigures> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT'; // the provider logs each on-demand fetch; not wanted here
  const [{ SupplierTokenProvider }, { decideTokenRefresh }, { TOKEN_REFRESH_PERIOD_MS }, { tireOrdersService }] =
    await Promise.all([
      import('../../car-orders/adapters/token-provider.js'),
      import('../../car-orders/domain/token-refresh-policy.js'),
      import('../../car-orders/service.js'),
      import('../../tire-orders/service.js'),
    ]);
  const lifetimeMs = tireOrdersService.accessTokenValidityMinutes * 60_000;
  let now = 0;
  let issued = 0;
  let stored: AccessToken | undefined;
  const expiries = new Map<string, number>();
  const store = { read: async () => stored, write: async (token: AccessToken) => void (stored = token) };
  const supplier = {
    fetchToken: async (): Promise<AccessToken> => {
      issued++;
      expiries.set(`t${issued}`, now + lifetimeMs);
      return { accessToken: `t${issued}`, issuedAt: now, expiresAt: now + lifetimeMs };
    },
  };
  const environments = Array.from(
    { length: environmentsFor(ordersPerSecond) },
    () => new SupplierTokenProvider(store, supplier, () => now),
  );
  const refresh = async () => {
    if (decideTokenRefresh(stored, now, TOKEN_REFRESH_PERIOD_MS).refresh)
      await store.write(await supplier.fetchToken());
  };

  const orders = Math.round((DAY_MS / 1000) * ordersPerSecond);
  const refresherOffsetMs = 17_000; // the schedule is not aligned with the first order
  let nextRefresh = refresherOffsetMs;
  let byRefresher = 0;
  let expiredTokenCalls = 0;
  for (let i = 0; i < orders; i++) {
    const at = (i * 1000) / ordersPerSecond;
    while (nextRefresh <= at) {
      now = nextRefresh;
      const before = issued;
      await refresh();
      byRefresher += issued - before;
      nextRefresh += TOKEN_REFRESH_PERIOD_MS;
    }
    now = at;
    const token = await environments[i % environments.length]!.accessToken();
    if (expiries.get(token)! <= now + CALL_WORST_CASE_MS) expiredTokenCalls++;
  }
  return {
    ordersPerSecond,
    environments: environments.length,
    orders,
    tokenRequests: issued,
    onDemandRequests: issued - byRefresher,
    bound: Math.ceil(DAY_MS / (0.75 * lifetimeMs)),
    expiredTokenCalls,
  };
}
