import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP endpoint standing in for the car maker's callback API, answering each order's callbacks from a script
 * (e.g. 503, 503, 204): it records every request it gets (method, path, headers, body, source address). It can be
 * stopped (connections refused) and started again on the same port.
 */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  sourceIp: string;
  answeredWith: number;
}

export class ScriptedEndpoint {
  readonly received: ReceivedRequest[] = [];
  private readonly scripts = new Map<string, number[]>();
  private server: Server | undefined;
  private port = 0;

  /** Answers the callbacks for `orderId` (the last path segment) with these statuses in turn, then the last one. */
  script(orderId: string, statuses: number[]): void {
    if (statuses.length === 0) throw new Error('a script needs at least one status');
    this.scripts.set(orderId, [...statuses]);
  }

  requestsFor(orderId: string): ReceivedRequest[] {
    return this.received.filter((request) => request.path.split('/').pop() === encodeURIComponent(orderId));
  }

  get url(): string {
    if (this.port === 0) throw new Error('the endpoint was never started');
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const orderId = decodeURIComponent((req.url ?? '').split('?')[0]!.split('/').pop() ?? '');
        const script = this.scripts.get(orderId) ?? [404];
        const status = script.length > 1 ? script.shift()! : script[0]!;
        this.received.push({
          method: req.method ?? '',
          path: (req.url ?? '').split('?')[0]!,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          sourceIp: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
          answeredWith: status,
        });
        res.writeHead(status, status === 204 ? {} : { 'content-type': 'application/json' });
        res.end(status === 204 ? undefined : JSON.stringify({ status }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
