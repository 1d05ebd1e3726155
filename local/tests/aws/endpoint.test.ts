import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAwsEndpoint, type AwsEndpoint } from '../../aws/endpoint.js';
import { AwsServiceError, type AwsJsonService } from '../../aws/protocol.js';
import { makeStateDir, rawAwsRequest, removeStateDir, signedFetch, TEST_CREDENTIALS } from './support.js';

/** A probe service: one operation per endpoint behaviour under test. */
const probe: AwsJsonService = {
  targetPrefix: 'Probe_1',
  jsonVersion: '1.1',
  operations: {
    Echo: (input: unknown, context) => ({
      input,
      origin: context.origin,
      accessKeyId: context.accessKeyId,
      requestId: context.requestId,
    }),
    Refuse: () => {
      throw new AwsServiceError('NotAllowedException', 'no', 403);
    },
    Explode: () => {
      throw new Error('unexpected bug with detail');
    },
    Slow: async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return undefined;
    },
  },
};

const queryCompatibleProbe: AwsJsonService = {
  targetPrefix: 'QueryProbe',
  jsonVersion: '1.0',
  errorTypePrefix: 'com.example#',
  queryErrorCode: (type) => (type === 'Missing' ? 'Legacy.Missing' : type),
  operations: {
    Fail: () => {
      throw new AwsServiceError('Missing', 'not there');
    },
  },
};

describe('AWS endpoint protocol', () => {
  let stateDir: string;
  let endpoint: AwsEndpoint;
  const unexpected = vi.fn();

  beforeAll(async () => {
    stateDir = makeStateDir();
    endpoint = await startAwsEndpoint({
      host: '127.0.0.1',
      port: 0,
      stateDir,
      credentials: TEST_CREDENTIALS,
      services: [probe, queryCompatibleProbe],
      onUnexpectedError: unexpected,
    });
  });

  afterAll(async () => {
    await endpoint?.close();
    removeStateDir(stateDir);
  });

  it('listens on loopback on the ephemeral port it reports', () => {
    expect(endpoint.port).toBeGreaterThan(0);
    expect(endpoint.url).toBe(`http://127.0.0.1:${endpoint.port}`);
  });

  it('dispatches by X-Amz-Target and answers JSON with the service content type and a request id', async () => {
    const reply = await rawAwsRequest(endpoint, 'Probe_1.Echo', { hello: 'world' });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(reply.json.input).toEqual({ hello: 'world' });
    expect(reply.json.origin).toBe(endpoint.url);
    expect(reply.json.accessKeyId).toBe('AKIDLOCALTEST');
    expect(reply.headers.get('x-amzn-requestid')).toBe(reply.json.requestId);
  });

  it('answers an operation that returns nothing with {}', async () => {
    const reply = await rawAwsRequest(endpoint, 'Probe_1.Slow', {});
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({});
  });

  it('rejects an unknown service prefix, an unknown operation and a missing target with 400 UnknownOperationException', async () => {
    for (const target of ['Nope_2020.DoIt', 'Probe_1.Nothing', 'Probe_1.constructor', '']) {
      const reply = await rawAwsRequest(endpoint, target, {});
      expect(reply.status, target).toBe(400);
      expect(reply.json.__type, target).toBe('UnknownOperationException');
    }
  });

  it('answers a request that is not a POST with 404 UnknownOperationException', async () => {
    const response = await signedFetch(`${endpoint.url}/`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { __type: string }).__type).toBe('UnknownOperationException');
  });

  it('rejects a body that is not JSON with 400 SerializationException', async () => {
    const reply = await rawAwsRequest(endpoint, 'Probe_1.Echo', undefined, { rawBody: '{not json' });
    expect(reply.status).toBe(400);
    expect(reply.json.__type).toBe('SerializationException');
  });

  it('sends a service error with its status, type and message', async () => {
    const reply = await rawAwsRequest(endpoint, 'Probe_1.Refuse', {});
    expect(reply.status).toBe(403);
    expect(reply.json).toEqual({ __type: 'NotAllowedException', message: 'no' });
    expect(reply.headers.get('x-amzn-query-error')).toBeNull();
  });

  it('qualifies the error type and sends x-amzn-query-error for a query-compatible service', async () => {
    const reply = await rawAwsRequest(endpoint, 'QueryProbe.Fail', {}, { jsonVersion: '1.0' });
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(reply.json).toEqual({ __type: 'com.example#Missing', message: 'not there' });
    expect(reply.headers.get('x-amzn-query-error')).toBe('Legacy.Missing;Sender');
  });

  it('turns an unexpected error into 500 InternalFailure without leaking its message, and reports it', async () => {
    const reply = await rawAwsRequest(endpoint, 'Probe_1.Explode', {});
    expect(reply.status).toBe(500);
    expect(reply.json.__type).toBe('InternalFailure');
    expect(JSON.stringify(reply.json)).not.toContain('unexpected bug');
    expect(unexpected).toHaveBeenCalledWith(
      expect.objectContaining({ message: 'unexpected bug with detail' }),
      'Probe_1.Explode',
    );
  });

  it('refuses a second endpoint on the same state directory, and frees it on close', async () => {
    const otherDir = makeStateDir();
    try {
      const first = await startAwsEndpoint({
        host: '127.0.0.1',
        port: 0,
        stateDir: otherDir,
        credentials: TEST_CREDENTIALS,
        services: [],
      });
      await expect(
        startAwsEndpoint({
          host: '127.0.0.1',
          port: 0,
          stateDir: otherDir,
          credentials: TEST_CREDENTIALS,
          services: [],
        }),
      ).rejects.toThrow(/in use/);
      await first.close();
      const second = await startAwsEndpoint({
        host: '127.0.0.1',
        port: 0,
        stateDir: otherDir,
        credentials: TEST_CREDENTIALS,
        services: [],
      });
      await second.close();
    } finally {
      removeStateDir(otherDir);
    }
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    const otherDir = makeStateDir();
    try {
      const exited = spawnSync(process.execPath, ['-e', ''], { timeout: 10_000 });
      expect(exited.status).toBe(0);
      writeFileSync(join(otherDir, 'aws-endpoint.lock'), String(exited.pid));
      const taken = await startAwsEndpoint({
        host: '127.0.0.1',
        port: 0,
        stateDir: otherDir,
        credentials: TEST_CREDENTIALS,
        services: [],
      });
      await taken.close();
    } finally {
      removeStateDir(otherDir);
    }
  });

  it('refuses two services with the same target prefix', async () => {
    const otherDir = makeStateDir();
    try {
      await expect(
        startAwsEndpoint({
          host: '127.0.0.1',
          port: 0,
          stateDir: otherDir,
          credentials: TEST_CREDENTIALS,
          services: [probe, probe],
        }),
      ).rejects.toThrow(/Probe_1/);
    } finally {
      removeStateDir(otherDir);
    }
  });
});
