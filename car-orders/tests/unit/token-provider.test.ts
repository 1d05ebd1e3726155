import {
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
  ThrottlingException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccessToken } from '../../../shared/auth/client-credentials.js';
import { SupplierTokenProvider, TOKEN_EXPIRY_MARGIN_MS } from '../../adapters/token-provider.js';
import { SupplierTokenStore } from '../../adapters/token-store.js';
import { captureLogs, freshToken, TOKEN_KEY_ID, TOKEN_PARAMETER } from './support.js';

const minute = 60_000;

/** An in-memory stand-in for the SecureString, counting reads and writes. */
function fakeStore(initial?: AccessToken) {
  let value = initial;
  return {
    reads: 0,
    writes: [] as AccessToken[],
    failReads: false,
    failWrites: false,
    async read() {
      this.reads++;
      if (this.failReads) throw new Error('ThrottlingException');
      return value;
    },
    async write(token: AccessToken) {
      if (this.failWrites) throw new Error('AccessDeniedException');
      this.writes.push(token);
      value = token;
    },
  };
}

function fakeSource(now: () => number) {
  let issued = 0;
  return {
    fetches: 0,
    async fetchToken(): Promise<AccessToken> {
      this.fetches++;
      issued++;
      return { accessToken: `fetched-${issued}`, issuedAt: now(), expiresAt: now() + 60 * minute };
    },
  };
}

describe('SupplierTokenProvider', () => {
  let now: number;
  const clock = () => now;
  beforeEach(() => {
    now = 1_700_000_000_000;
    captureLogs();
  });
  afterEach(() => vi.restoreAllMocks());

  it('reads the stored token once, then serves it from memory', async () => {
    const store = fakeStore(freshToken(now));
    const source = fakeSource(clock);
    const provider = new SupplierTokenProvider(store, source, clock);
    expect(await provider.accessToken()).toBe('stored-access-token');
    expect(await provider.accessToken()).toBe('stored-access-token');
    expect(store.reads).toBe(1);
    expect(source.fetches).toBe(0);
  });

  it('goes back to the store when the memory copy is within the margin of expiry', async () => {
    const store = fakeStore(freshToken(now)); // expires in 50 minutes
    const provider = new SupplierTokenProvider(store, fakeSource(clock), clock);
    await provider.accessToken();
    now += 50 * minute - TOKEN_EXPIRY_MARGIN_MS; // the memory copy is now too close to expiry
    await store.write({ accessToken: 'refreshed-by-refresher', issuedAt: now, expiresAt: now + 60 * minute });
    expect(await provider.accessToken()).toBe('refreshed-by-refresher');
    expect(store.reads).toBe(2);
  });

  it('fetches and stores a token when none is stored', async () => {
    const store = fakeStore(undefined);
    const source = fakeSource(clock);
    const provider = new SupplierTokenProvider(store, source, clock);
    expect(await provider.accessToken()).toBe('fetched-1');
    expect(store.writes.map((t) => t.accessToken)).toEqual(['fetched-1']);
    // Then from memory.
    expect(await provider.accessToken()).toBe('fetched-1');
    expect(source.fetches).toBe(1);
  });

  it('fetches when the stored token has expired', async () => {
    const store = fakeStore({ accessToken: 'old', issuedAt: now - 70 * minute, expiresAt: now - 10 * minute });
    const source = fakeSource(clock);
    const provider = new SupplierTokenProvider(store, source, clock);
    expect(await provider.accessToken()).toBe('fetched-1');
    expect(source.fetches).toBe(1);
  });

  it('bypasses memory and store when forced (the supplier refused the token)', async () => {
    const store = fakeStore(freshToken(now));
    const source = fakeSource(clock);
    const provider = new SupplierTokenProvider(store, source, clock);
    await provider.accessToken();
    expect(await provider.accessToken({ forceRefresh: true })).toBe('fetched-1');
    expect(store.reads).toBe(1);
    expect(store.writes).toHaveLength(1);
    expect(await provider.accessToken()).toBe('fetched-1');
  });

  it('still returns a fetched token when storing it fails, and fetches when the store cannot be read', async () => {
    const store = fakeStore(freshToken(now));
    store.failReads = true;
    store.failWrites = true;
    const provider = new SupplierTokenProvider(store, fakeSource(clock), clock);
    expect(await provider.accessToken()).toBe('fetched-1');
  });

  it('propagates a token endpoint failure', async () => {
    const provider = new SupplierTokenProvider(
      fakeStore(undefined),
      { fetchToken: () => Promise.reject(new Error('token endpoint down')) },
      clock,
    );
    await expect(provider.accessToken()).rejects.toThrow('token endpoint down');
  });
});

describe('SupplierTokenStore', () => {
  const ssm = mockClient(SSMClient);
  let logs: ReturnType<typeof captureLogs>;
  const store = () => new SupplierTokenStore(new SSMClient({ region: 'eu-west-1' }), TOKEN_PARAMETER, TOKEN_KEY_ID);
  beforeEach(() => {
    ssm.reset();
    logs = captureLogs();
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => ssm.restore());

  it('writes the token as a SecureString with the service KMS key, overwriting', async () => {
    ssm.on(PutParameterCommand).resolves({ Version: 3 });
    await store().write({ accessToken: 'secret-token', issuedAt: 1, expiresAt: 2 });
    const input = ssm.commandCalls(PutParameterCommand)[0]?.args[0].input;
    expect(input).toEqual({
      Name: TOKEN_PARAMETER,
      Type: 'SecureString',
      KeyId: TOKEN_KEY_ID,
      Overwrite: true,
      Value: JSON.stringify({ accessToken: 'secret-token', issuedAt: 1, expiresAt: 2 }),
    });
  });

  it('reads it back with decryption', async () => {
    ssm.on(GetParameterCommand, { Name: TOKEN_PARAMETER, WithDecryption: true }).resolves({
      Parameter: { Value: JSON.stringify({ accessToken: 'secret-token', issuedAt: 1, expiresAt: 2 }) },
    });
    expect(await store().read()).toEqual({ accessToken: 'secret-token', issuedAt: 1, expiresAt: 2 });
  });

  it('treats a missing or unreadable parameter as no token, without logging its value', async () => {
    ssm.on(GetParameterCommand).rejectsOnce(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    expect(await store().read()).toBeUndefined();
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'not-json secret-token-fragment' } });
    expect(await store().read()).toBeUndefined();
    ssm
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: JSON.stringify({ accessToken: 'secret-token-fragment' }) } });
    expect(await store().read()).toBeUndefined();
    expect(logs.text()).toContain('unreadable');
    expect(logs.text()).not.toContain('secret-token-fragment');
  });

  it('throws other SSM failures', async () => {
    ssm
      .on(GetParameterCommand)
      .rejects(new ThrottlingException({ message: 'slow down', Message: 'slow down', $metadata: {} }));
    await expect(store().read()).rejects.toThrow('slow down');
  });
});
