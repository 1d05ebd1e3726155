import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeadLetterSink } from '../../aws/eventbridge/bus.js';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  remoteAddress: string | undefined;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface RecordingServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1, port 0, that records every request and answers with `reply`. */
export async function startRecordingServer(reply: (request: RecordedRequest) => Reply): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        remoteAddress: req.socket.remoteAddress,
      };
      requests.push(recorded);
      const answer = reply(recorded);
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A tiny OAuth client-credentials token endpoint issuing token-1, token-2, ... */
export async function startTokenServer(expiresIn = 3600): Promise<RecordingServer & { issued: () => number }> {
  let issued = 0;
  const server = await startRecordingServer((request) => {
    if (request.method !== 'POST' || !request.url.startsWith('/oauth2/token')) return { status: 404 };
    if (!request.headers.authorization?.startsWith('Basic ')) {
      return { status: 401, headers: { 'content-type': 'application/json' }, body: '{"error":"invalid_client"}' };
    }
    const form = new URLSearchParams(request.body);
    if (form.get('grant_type') !== 'client_credentials') {
      return {
        status: 400,
        headers: { 'content-type': 'application/json' },
        body: '{"error":"unsupported_grant_type"}',
      };
    }
    issued++;
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: `token-${issued}`, token_type: 'Bearer', expires_in: expiresIn }),
    };
  });
  return Object.assign(server, { issued: () => issued });
}

/** A free loopback port: listen on port 0, note it, close. Nothing listens there afterwards. */
export async function closedPort(): Promise<number> {
  const server = await startRecordingServer(() => ({ status: 200 }));
  await server.close();
  return server.port;
}

export interface MemoryDeadLetterQueue extends DeadLetterSink {
  messages: Array<{ body: string; attributes: Record<string, string> }>;
}

export function memoryDeadLetterQueue(arn = 'arn:aws:sqs:us-east-1:000000000000:callback-dlq'): MemoryDeadLetterQueue {
  const messages: MemoryDeadLetterQueue['messages'] = [];
  return {
    arn,
    messages,
    send: async (body, attributes) => {
      messages.push({ body, attributes });
    },
  };
}

export function temporaryDirectory(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'local-eventbridge-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
