import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../audit.js';
import { guardListener, LISTENER_LIMITS } from '../../http/guard.js';

/** The listener guard on a bare server: which requests reach the handler, and what the others get. */
const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function guarded(): Promise<{ port: number; audit: AuditEntry[]; server: Server }> {
  const audit: AuditEntry[] = [];
  const server = createServer();
  guardListener(server, (_req, res) => res.end('served'), {
    listener: 'probe',
    audit: { append: (e) => audit.push(e) },
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, audit, server };
}

function get(port: number, headers: Record<string, string>): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const sent = request({ host: '127.0.0.1', port, path: '/x', headers, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          ...(response.headers['content-type'] ? { type: response.headers['content-type'] } : {}),
          body,
        }),
      );
    });
    sent.on('error', reject);
    sent.end();
  });
}

describe('listener guard', () => {
  it('serves its own origin by 127.0.0.1, localhost and [::1], with or without a same-origin Origin', async () => {
    const { port } = await guarded();
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect((await get(port, { host })).body, host).toBe('served');
    }
    expect((await get(port, { host: `localhost:${port}`, origin: `http://localhost:${port}` })).body).toBe('served');
    expect(
      (
        await get(port, {
          host: `127.0.0.1:${port}`,
          referer: `http://127.0.0.1:${port}/page`,
          'sec-fetch-site': 'same-origin',
        })
      ).body,
    ).toBe('served');
  });

  it('refuses any other Host, Origin, Referer or Sec-Fetch-Site with 403 problem+json, audited', async () => {
    const { port, audit } = await guarded();
    const own = `127.0.0.1:${port}`;
    const cases: [Record<string, string>, string][] = [
      [{ host: `rebind.evil.example:${port}` }, 'host'],
      [{ host: '127.0.0.1' }, 'host'],
      [{ host: `127.0.0.1:${port + 1}` }, 'host'],
      [{ host: own, origin: 'http://evil.example' }, 'origin'],
      [{ host: own, origin: 'null' }, 'origin'],
      [{ host: own, origin: `http://localhost:${port}` }, 'origin'],
      [{ host: own, origin: `https://127.0.0.1:${port}` }, 'origin'],
      [{ host: own, referer: 'http://evil.example/a' }, 'referer'],
      [{ host: own, referer: 'not a url' }, 'referer'],
      [{ host: own, 'sec-fetch-site': 'cross-site' }, 'fetch-site'],
      [{ host: own, 'sec-fetch-site': 'same-site' }, 'fetch-site'],
    ];
    for (const [headers, reason] of cases) {
      const reply = await get(port, headers);
      expect(reply.status, JSON.stringify(headers)).toBe(403);
      expect(reply.type).toBe('application/problem+json');
      expect(JSON.parse(reply.body)).toMatchObject({ type: 'about:blank', title: 'Forbidden', status: 403 });
      expect(audit.at(-1), JSON.stringify(headers)).toMatchObject({ kind: 'refused', listener: 'probe', reason });
    }
  });

  it('sets the declared timeouts on the server', async () => {
    const { server } = await guarded();
    expect(server.headersTimeout).toBe(LISTENER_LIMITS.headersTimeoutMs);
    expect(server.requestTimeout).toBe(LISTENER_LIMITS.requestTimeoutMs);
    expect(server.keepAliveTimeout).toBe(LISTENER_LIMITS.keepAliveTimeoutMs);
    expect(server.maxConnections).toBe(LISTENER_LIMITS.maxConnections * 2);
  });
});
