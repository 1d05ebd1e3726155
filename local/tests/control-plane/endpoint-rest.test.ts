import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAwsEndpoint, type AwsEndpoint } from '../../aws/endpoint.js';
import { AwsServiceError, type AwsJsonService, type AwsRestJsonService } from '../../aws/protocol.js';
import { signedFetch, TEST_CREDENTIALS } from '../aws/support.js';
import { makeStateDir, removeStateDir } from './support.js';

/** The AWS endpoint's REST-JSON routing (requests without X-Amz-Target), beside its JSON-protocol dispatch. */

const probe: AwsRestJsonService = {
  name: 'probe',
  route(method, segments) {
    if (segments[0] !== 'things') return undefined;
    if (method === 'POST' && segments.length === 1)
      return (request) => ({ statusCode: 201, body: { created: request.body } });
    if (method === 'GET' && segments.length === 2) {
      return (request) => {
        if (segments[1] === 'missing')
          throw new AwsServiceError('NotFoundException', 'Invalid thing identifier specified', 404);
        if (segments[1] === 'broken') throw new Error('bug');
        return { statusCode: 200, body: { id: segments[1], limit: request.query.get('limit') } };
      };
    }
    if (method === 'DELETE' && segments.length === 2) return () => ({ statusCode: 202 });
    return undefined;
  },
};

const jsonProbe: AwsJsonService = {
  targetPrefix: 'Probe_1',
  jsonVersion: '1.1',
  operations: { Echo: (input: unknown) => ({ input }) },
};

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
    services: [],
    onUnexpectedError: unexpected,
  });
  // Registered after start, as the runtime registers its control-plane services once the gateways run.
  endpoint.addService(probe);
  endpoint.addService(jsonProbe);
});

afterAll(async () => {
  await endpoint?.close();
  removeStateDir(stateDir);
});

async function call(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const response = await signedFetch(`${endpoint.url}${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  };
}

describe('REST-JSON routing', () => {
  it('routes by method and path, with decoded path labels, query parameters and the JSON body', async () => {
    const created = await call('/things', {
      method: 'POST',
      body: JSON.stringify({ name: 'a' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(created).toMatchObject({ status: 201, json: { created: { name: 'a' } } });
    expect(created.headers.get('content-type')).toBe('application/json');
    expect(created.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);

    expect(await call('/things/a%20b?limit=3')).toMatchObject({ status: 200, json: { id: 'a b', limit: '3' } });
    const deleted = await call('/things/x', { method: 'DELETE' });
    expect(deleted.status).toBe(202);
    expect(deleted.json).toBeUndefined();
  });

  it('sends errors as x-amzn-ErrorType with {"message"}, and a bug as a 500 InternalFailure', async () => {
    const missing = await call('/things/missing');
    expect(missing).toMatchObject({ status: 404, json: { message: 'Invalid thing identifier specified' } });
    expect(missing.headers.get('x-amzn-errortype')).toBe('NotFoundException');

    const broken = await call('/things/broken');
    expect(broken.status).toBe(500);
    expect(broken.headers.get('x-amzn-errortype')).toBe('InternalFailure');
    expect(JSON.stringify(broken.json)).not.toContain('bug');
    expect(unexpected).toHaveBeenCalled();

    const badJson = await call('/things', { method: 'POST', body: '{nope' });
    expect(badJson.status).toBe(400);
    expect(badJson.headers.get('x-amzn-errortype')).toBe('SerializationException');
  });

  it('keeps the JSON protocol for requests with X-Amz-Target, and answers unrouted requests as before', async () => {
    const echoed = await call('/', {
      method: 'POST',
      headers: { 'x-amz-target': 'Probe_1.Echo', 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ a: 1 }),
    });
    expect(echoed).toMatchObject({ status: 200, json: { input: { a: 1 } } });

    // A path a REST service would take, but with a target: JSON protocol, not REST.
    const targeted = await call('/things', { method: 'POST', headers: { 'x-amz-target': 'Nope.Op' }, body: '{}' });
    expect(targeted).toMatchObject({ status: 400, json: { __type: 'UnknownOperationException' } });

    expect(await call('/elsewhere')).toMatchObject({ status: 404, json: { __type: 'UnknownOperationException' } });
    expect(await call('/', { method: 'POST', body: '{}' })).toMatchObject({
      status: 400,
      json: { __type: 'UnknownOperationException' },
    });
  });

  it('refuses a second JSON service for the same target prefix', () => {
    expect(() => endpoint.addService(jsonProbe)).toThrow(/Probe_1/);
  });
});
