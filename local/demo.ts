import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readAuditEntries } from '../client/audit.js';
import { LocalLocator } from '../client/local-locator.js';
import { traceOrder } from '../client/order-trace.js';
import type { RuntimeDescription } from '../client/runtime-description.js';
import { traceOf } from '../client/trace.js';
import { LOCAL_DEFAULTS } from './config.js';
import { startLocalRuntime, type LocalRuntime } from './runtime.js';

/**
 * `npm run demo`: one customer order followed across both companies to OrderCompleted, each hop with its time.
 * Uses a running `npm start` when there is one (its .local/runtime.json), else starts the platform itself.
 */
const HELP = `Usage: npm run demo [-- --help]

Places one customer order and follows it across both companies (car maker, tire supplier, the completion callback)
to OrderCompleted, printing each hop with its time, then the order's trace as "npx b2b orders trace" shows it.
Uses the platform \`npm start\` runs (its <state-dir>/runtime.json) when there is one, else starts its own and stops
it at the end.

Environment:
  B2B_STATE_DIR   State directory of the running platform (default ${LOCAL_DEFAULTS.stateDir})

Options:
  -h, --help      Show this help`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}
if (args.length > 0) {
  console.error(`demo: unexpected argument "${args[0]}"\n\n${HELP}`);
  process.exit(2);
}

const stateDir = resolve(process.env.B2B_STATE_DIR ?? LOCAL_DEFAULTS.stateDir);
const started = Date.now();
const elapsed = () => `+${((Date.now() - started) / 1000).toFixed(2)}s`.padStart(8);
const say = (hop: string, detail: string) => console.log(`${elapsed()}  ${hop.padEnd(20)} ${detail}`);

async function running(): Promise<RuntimeDescription | undefined> {
  try {
    const description = JSON.parse(readFileSync(join(stateDir, 'runtime.json'), 'utf8')) as RuntimeDescription;
    const probe = await fetch(description.carTokenUrl.replace('/oauth2/token', '/.well-known/jwks.json'), {
      signal: AbortSignal.timeout(2_000),
    });
    return probe.ok ? description : undefined;
  } catch {
    return undefined;
  }
}

/** The order's trace as `b2b orders trace` builds it (the client module's), one line per hop. */
async function printTrace(description: RuntimeDescription, carOrderId: string): Promise<void> {
  const locator = new LocalLocator(stateDir, description);
  try {
    const trace = await traceOrder(locator, carOrderId);
    const start = Date.parse(trace.hops[0]?.time ?? '');
    console.log(`Car order ${trace.carOrderId}: ${trace.status ?? '-'}, correlation id ${trace.correlationId}\n`);
    for (const hop of trace.hops) {
      const offset = `+${((Date.parse(hop.time) - start) / 1000).toFixed(2)}s`.padStart(9);
      console.log(`${hop.time} ${offset}  ${hop.hop.padEnd(20)} ${hop.detail}`);
    }
  } finally {
    locator.close();
  }
}

let own: LocalRuntime | undefined;
let runtime = await running();
if (runtime) {
  say('platform', `using the running platform (pid ${runtime.pid})`);
} else {
  say('platform', 'no running platform found: starting one');
  own = await startLocalRuntime({ stateDir, logSink: () => undefined, log: () => undefined });
  runtime = own.description;
}

try {
  const correlationId = `demo-${randomUUID()}`;
  const basic = Buffer.from(`${runtime.customer.clientId}:${runtime.customer.clientSecret}`).toString('base64');
  const tokenResponse = await fetch(runtime.carTokenUrl, {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'car-orders/orders.write car-orders/orders.read',
    }),
  });
  if (!tokenResponse.ok)
    throw new Error(`customer token refused: ${tokenResponse.status} ${await tokenResponse.text()}`);
  const { access_token: token, expires_in: expiresIn } = (await tokenResponse.json()) as {
    access_token: string;
    expires_in: number;
  };
  say(
    'customer token',
    `client ${runtime.customer.clientId}: access token for ${expiresIn}s from ${runtime.carTokenUrl}`,
  );

  const create = await fetch(`${runtime.carApiUrl}/orders`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      'X-Correlation-Id': correlationId,
      'Idempotency-Key': correlationId,
    },
    body: JSON.stringify({ carType: 'roadster', quantity: 4 }),
  });
  const order = (await create.json()) as { id: string; status: string; tireOrderId?: string };
  if (create.status !== 201) throw new Error(`order refused: ${create.status} ${JSON.stringify(order)}`);
  say(
    'car order',
    `201 ${order.id} ${order.status}${order.tireOrderId ? ` tire order ${order.tireOrderId}` : ''} (correlation ${correlationId})`,
  );

  const auditPath = join(stateDir, 'audit.jsonl');
  const shown = new Set<string>();
  const deadline = Date.now() + 120_000;
  let status = order.status;
  while (status !== 'OrderCompleted') {
    if (Date.now() > deadline)
      throw new Error(`order ${order.id} did not complete within 120 s (last status ${status})`);
    await new Promise((r) => setTimeout(r, 250));
    const entries = readAuditEntries(auditPath);
    for (const hop of traceOf(entries, correlationId)) {
      const key = `${hop.time}|${hop.hop}|${hop.detail}`;
      if (shown.has(key) || hop.hop === 'customer order') continue;
      shown.add(key);
      if (hop.entry.kind === 'request' && hop.hop === 'tire order') {
        // The car maker's token for the supplier: the latest one its client obtained before this call.
        const caller = hop.entry.clientId;
        const token = entries
          .filter((e) => e.kind === 'token' && e.outcome === 'issued' && e.clientId === caller && e.time <= hop.time)
          .at(-1);
        if (token?.kind === 'token') {
          say(
            'supplier token',
            `client ${token.clientId} from ${token.sourceIp}: ${token.scope} (issued ${token.time})`,
          );
        }
      }
      say(hop.hop, hop.detail);
    }
    const read = await fetch(`${runtime.carApiUrl}/orders/${order.id}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const current = (await read.json()) as { status: string; completedAt?: string };
    if (current.status !== status) {
      status = current.status;
      say(
        'car order',
        `${order.id} is now ${status}${current.completedAt ? ` (completed ${current.completedAt})` : ''}`,
      );
    }
  }
  say('done', `order ${order.id} completed end to end in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`\nThe whole journey, as operators see it (npx b2b orders trace ${order.id}):\n`);
  await printTrace(runtime, order.id);
} finally {
  await own?.close();
}
