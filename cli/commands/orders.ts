import { OrdersTable } from '../../car-orders/adapters/orders-table.js';
import type { CarOrder } from '../../car-orders/domain/car-order.js';
import { traceOrder, type OrderTrace } from '../../client/order-trace.js';
import { OrderId } from '../../shared/contracts.js';
import {
  CAR_ORDER_STATES,
  CAR_ORDER_WORK_STATES,
  decodePageToken,
  encodePageToken,
  getCarOrder,
  listCarOrders,
  type CarOrderListItem,
  type CarOrderPage,
} from '../../client/orders.js';
import {
  booleanOption,
  integerOption,
  OperatorError,
  stringOption,
  UsageError,
  type CommandContext,
  type CommandResult,
  type CommandSpec,
} from '../command.js';
import { follow, FOLLOW_OPTIONS, followBound } from '../lib/follow.js';
import { keyValues, table, truncate } from '../output.js';
import type { Target } from '../target.js';
import { iso, parseInstant } from '../time.js';

export type { OrderTrace, TraceHopView } from '../../client/order-trace.js';

/**
 * `b2b orders trace CAR_ORDER_ID` (the trace itself is the client module's, client/order-trace.ts, shared with the
 * console and the demo), `b2b orders failed` and `b2b orders retry`.
 */

function humanTrace(trace: OrderTrace): string[] {
  const start = trace.hops[0] ? Date.parse(trace.hops[0].time) : 0;
  const lines = [
    `Car order ${trace.carOrderId}: ${trace.status ?? '-'}${trace.tireOrderId ? `, tire order ${trace.tireOrderId}` : ''}`,
    `Correlation id ${trace.correlationId}`,
    '',
    ...table(trace.hops, [
      { header: 'TIME', value: (h) => h.time },
      { header: '+S', value: (h) => ((Date.parse(h.time) - start) / 1000).toFixed(2) },
      { header: 'HOP', value: (h) => h.hop },
      { header: 'DETAIL', value: (h) => h.detail, max: 140 },
    ]),
  ];
  for (const note of trace.notes) lines.push('', `Note: ${note}`);
  return lines;
}

export const ordersTraceCommand: CommandSpec = {
  path: ['orders', 'trace'],
  summary: "Show a car order's journey across both companies as a timeline",
  description: [
    'Joins everything recorded about the order by its correlation id: the customer request, the tire order, the',
    "supplier's fulfilment, the completion event, each delivery attempt of the API destination, and the callback.",
  ],
  positionals: [
    { name: 'CAR_ORDER_ID', description: 'The car order id (as returned by POST /orders)', required: true },
  ],
  options: FOLLOW_OPTIONS,
  examples: [
    'b2b orders trace 6f1c2e0a-3b7d-4c55-9d7e-0f3b2a1c9e88',
    'b2b orders trace 6f1c2e0a-... --json',
    'b2b orders trace 6f1c2e0a-... --follow',
    'b2b orders trace 6f1c2e0a-... --stage dev',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const id = orderIdArgument(input.positionals[0]!);
    const target = await context.target();
    if (booleanOption(input, 'follow')) return followTrace(context, target, id, followBound(input));
    const trace = await traceOrder(target.resources, id);
    return { data: trace, human: humanTrace(trace) };
  },
};

function orderIdArgument(id: string): string {
  if (!OrderId.safeParse(id).success)
    throw new UsageError(`"${id}" is not an order id (1-64 characters of A-Z, a-z, 0-9, _ or -)`);
  return id;
}

/** Prints the trace's header and hops, then each new hop as it is recorded (one JSON line per hop with --json). */
async function followTrace(
  context: CommandContext,
  target: Target,
  id: string,
  forMs: number | undefined,
): Promise<CommandResult> {
  const printed = new Set<string>();
  let status: string | undefined;
  let first = true;
  await follow(context, { intervalMs: target.local ? 500 : 10_000, ...(forMs ? { forMs } : {}) }, async () => {
    const trace = await traceOrder(target.resources, id);
    if (first) context.emit(humanTrace({ ...trace, hops: [], notes: [] }).slice(0, 2), { ...trace, hops: undefined });
    else if (trace.status !== status)
      context.emit([`Car order ${id}: ${trace.status ?? '-'}`], { carOrderId: id, status: trace.status });
    first = false;
    status = trace.status;
    for (const hop of trace.hops) {
      const key = `${hop.time} ${hop.hop} ${hop.detail}`;
      if (printed.has(key)) continue;
      printed.add(key);
      context.emit([`${hop.time}  ${hop.hop.padEnd(20)}  ${truncate(hop.detail, 140)}`], hop);
    }
  });
  return { data: null, human: [], streamed: true };
}

// ---------------------------------------------------------------------------------------------------------------
// Every car order: list and get
// ---------------------------------------------------------------------------------------------------------------

const ORDER_STATES = [...CAR_ORDER_STATES, ...CAR_ORDER_WORK_STATES];

function humanOrders(page: CarOrderPage, label: string): string[] {
  if (page.orders.length === 0) return [`No car orders match on ${label}.`];
  return [
    `${page.orders.length} car order${page.orders.length === 1 ? '' : 's'} on ${label}:`,
    '',
    ...table(page.orders, [
      { header: 'CAR ORDER', value: (o) => o.id },
      { header: 'STATUS', value: (o) => o.status },
      { header: 'WAITING', value: (o) => o.workState },
      { header: 'CLIENT', value: (o) => o.clientId },
      { header: 'CAR TYPE', value: (o) => o.carType, max: 24 },
      { header: 'QTY', value: (o) => o.quantity },
      { header: 'CREATED', value: (o) => o.createdAt },
      { header: 'TIRE ORDER', value: (o) => o.tireOrderId },
    ]),
    ...nextTokenLines(page.nextToken),
  ];
}

/** The human form of a page token: how to ask for the next page. */
export function nextTokenLines(nextToken: string | undefined): string[] {
  return nextToken ? ['', `More exist: --next ${nextToken}`] : [];
}

export const ordersListCommand: CommandSpec = {
  path: ['orders', 'list'],
  summary: 'List car orders by status, client and time, including those still waiting for their tire order',
  description: [
    'Scans the car orders table (filters applied by DynamoDB), a page at a time in table order, each page sorted',
    'by creation time. WAITING shows AWAITING_TIRE_ORDER (the tire order is still to be placed; the retry job',
    'retries it) or TIRE_ORDER_FAILED (given up; see "b2b orders failed"). --status takes a status or either one.',
  ],
  options: {
    status: { type: 'string', valueName: 'S', description: `Only orders in S: ${ORDER_STATES.join(', ')}` },
    client: { type: 'string', valueName: 'ID', description: 'Only orders placed by this app client id' },
    since: { type: 'string', valueName: 'TIME', description: 'Only orders created at or after TIME ("-1h", ISO)' },
    limit: { type: 'string', valueName: 'N', description: 'At most N orders per page (default 100)' },
    next: { type: 'string', valueName: 'TOKEN', description: 'The next page: the token a previous page printed' },
  },
  examples: [
    'b2b orders list',
    'b2b orders list --status AWAITING_TIRE_ORDER',
    'b2b orders list --client 4f8k2example --since -1h --limit 20 --json',
    'b2b orders list --limit 20 --next eyJpZCI6IjZmMWMyZTBhIn0',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const status = stringOption(input, 'status');
    if (status !== undefined && !ORDER_STATES.includes(status as never))
      throw new UsageError(`--status must be one of ${ORDER_STATES.join(', ')}, not "${status}"`);
    const since = stringOption(input, 'since');
    const next = stringOption(input, 'next');
    if (next !== undefined && !decodePageToken(next)) throw new UsageError('--next is not a token a listing printed');
    const clientId = stringOption(input, 'client');
    const target = await context.target();
    const page = await listCarOrders(target.resources, {
      ...(status ? { status } : {}),
      ...(clientId ? { clientId } : {}),
      ...(since ? { since: iso(parseInstant(since, 'since', context.now())) } : {}),
      ...(next ? { next } : {}),
      limit: integerOption(input, 'limit', { min: 1, max: 1000, default: 100 }),
    });
    return { data: page, human: humanOrders(page, target.label) };
  },
};

export const ordersGetCommand: CommandSpec = {
  path: ['orders', 'get'],
  summary: 'Show one car order as the car maker records it (status, client, tire order, retries)',
  positionals: [{ name: 'CAR_ORDER_ID', description: 'The car order id', required: true }],
  examples: ['b2b orders get 6f1c2e0a-3b7d-4c55-9d7e-0f3b2a1c9e88', 'b2b orders get 6f1c2e0a-... --json'],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const id = orderIdArgument(input.positionals[0]!);
    const target = await context.target();
    const order = (await getCarOrder(target.resources, id)) as CarOrderListItem | undefined;
    if (!order) throw new OperatorError(`No car order ${id} on ${target.label}.`);
    const human = [
      `Car order ${order.id}`,
      ...keyValues([
        ['status', order.status],
        ['waiting', order.workState],
        ['due', order.dueAt],
        ['client', order.clientId],
        ['car type', order.carType],
        ['quantity', order.quantity],
        ['tire order', order.tireOrderId],
        ['created', order.createdAt],
        ['updated', order.updatedAt],
        ['completed', order.completedAt],
        ['last placement error', order.lastPlacementError],
        ['correlation id', order.correlationId],
      ]),
    ];
    return { data: order, human };
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Given-up tire orders: list and requeue
// ---------------------------------------------------------------------------------------------------------------

/** The car orders table through the car maker's own adapter, which alone knows the item shape and its writes. */
async function carOrdersTable(target: Target): Promise<OrdersTable> {
  const { carOrders } = await target.resources.tables();
  return new OrdersTable(target.clients.dynamodb, carOrders);
}

export interface FailedOrderView {
  id: string;
  clientId: string;
  carType: string;
  quantity: number;
  createdAt: string;
  /** When the retry job gave up (the index's dueAt). */
  failedAt?: string;
  refusedAttempts: number;
  transientFailures: number;
  lastPlacementError?: string;
  correlationId: string;
}

export interface FailedOrderList {
  orders: FailedOrderView[];
  /** True when --max stopped the listing before the last page. */
  more: boolean;
  /** When more exist: pass it as --next for the following page. */
  nextToken?: string;
}

const QUERY_PAGE_LIMIT = 100;

function failedOrderView(order: CarOrder): FailedOrderView {
  return {
    id: order.id,
    clientId: order.clientId,
    carType: order.carType,
    quantity: order.quantity,
    createdAt: order.createdAt,
    ...(order.dueAt !== undefined ? { failedAt: order.dueAt } : {}),
    refusedAttempts: order.refusedAttempts ?? 0,
    transientFailures: order.transientFailures ?? 0,
    ...(order.lastPlacementError !== undefined ? { lastPlacementError: order.lastPlacementError } : {}),
    correlationId: order.correlationId,
  };
}

/** Pages through the byWorkState index's TIRE_ORDER_FAILED partition, oldest given-up first, up to `max` orders. */
export async function listFailedOrders(target: Target, max: number, next?: string): Promise<FailedOrderList> {
  const table = await carOrdersTable(target);
  const orders: FailedOrderView[] = [];
  let startKey: Record<string, unknown> | undefined = next ? decodePageToken(next) : undefined;
  do {
    const page = await table.failedPage(Math.min(QUERY_PAGE_LIMIT, max - orders.length), startKey);
    orders.push(...page.orders.map(failedOrderView));
    startKey = page.nextKey;
  } while (startKey !== undefined && orders.length < max);
  return { orders, more: startKey !== undefined, ...(startKey ? { nextToken: encodePageToken(startKey) } : {}) };
}

export const ordersFailedCommand: CommandSpec = {
  path: ['orders', 'failed'],
  summary: 'List the car orders whose tire order the retry job gave up on (TIRE_ORDER_FAILED)',
  description: [
    'The supplier refused their tire order 10 times, so PlacePendingTireOrders stopped retrying; they stay',
    'OrderSubmitted. Read from the byWorkState index (oldest given-up first). Fix the cause, then "b2b orders retry".',
  ],
  options: {
    max: { type: 'string', valueName: 'N', description: 'List at most N orders (default 100)' },
    next: { type: 'string', valueName: 'TOKEN', description: 'The next page: the token a previous page printed' },
  },
  examples: [
    'b2b orders failed',
    'b2b orders failed --max 20 --json',
    'b2b orders failed --max 20 --next eyJpZCI6IjZmMWMyZTBhIn0',
    'b2b orders failed --stage dev',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const max = integerOption(input, 'max', { min: 1, max: 10_000, default: 100 });
    const next = stringOption(input, 'next');
    if (next !== undefined && !decodePageToken(next)) throw new UsageError('--next is not a token a listing printed');
    const target = await context.target();
    const list = await listFailedOrders(target, max, next);
    const human =
      list.orders.length === 0
        ? [`No failed tire orders on ${target.label}.`]
        : [
            `${list.orders.length} car order${list.orders.length === 1 ? '' : 's'} given up on ${target.label}${list.more ? ` (--max ${max} reached; more exist)` : ''}:`,
            '',
            ...table(list.orders, [
              { header: 'CAR ORDER', value: (o) => o.id },
              { header: 'CLIENT', value: (o) => o.clientId },
              { header: 'CAR TYPE', value: (o) => o.carType, max: 24 },
              { header: 'QTY', value: (o) => o.quantity },
              { header: 'CREATED', value: (o) => o.createdAt },
              { header: 'GIVEN UP', value: (o) => o.failedAt },
              { header: 'REFUSED', value: (o) => o.refusedAttempts },
              { header: 'LAST ERROR', value: (o) => o.lastPlacementError, max: 100 },
            ]),
            ...nextTokenLines(list.nextToken),
          ];
    return { data: list, human };
  },
};

export interface RetryItem {
  carOrderId: string;
  outcome: 'requeued' | 'failed';
  /** Requeued: when it is due for the retry job. */
  dueAt?: string;
  reason?: string;
}

export interface RetryResult {
  requeued: number;
  failed: number;
  items: RetryItem[];
}

/** Why a requeue's condition failed, read after the fact for the operator (the write itself decided). */
async function notFailedReason(target: Target, table: OrdersTable, id: string): Promise<string> {
  const order = await table.get(id);
  if (order === undefined) return `not a failed order (no car order ${id} on ${target.label})`;
  const state = [order.status, order.workState, order.tireOrderId ? `tire order ${order.tireOrderId}` : undefined]
    .filter(Boolean)
    .join(', ');
  return `not a failed order (${state})`;
}

export async function retryFailedOrders(target: Target, ids: readonly string[], now: Date): Promise<RetryResult> {
  const table = await carOrdersTable(target);
  const items: RetryItem[] = [];
  for (const id of new Set(ids)) {
    if (await table.requeueFailed(id, now)) {
      items.push({ carOrderId: id, outcome: 'requeued', dueAt: now.toISOString() });
    } else {
      items.push({ carOrderId: id, outcome: 'failed', reason: await notFailedReason(target, table, id) });
    }
  }
  const requeued = items.filter((item) => item.outcome === 'requeued').length;
  return { requeued, failed: items.length - requeued, items };
}

export const ordersRetryCommand: CommandSpec = {
  path: ['orders', 'retry'],
  summary: 'Requeue failed car orders so the retry job places their tire orders again',
  description: [
    'Each order moves back from TIRE_ORDER_FAILED to AWAITING_TIRE_ORDER, due now, with its refusal count reset',
    '(one conditional UpdateItem: only an order still failed, OrderSubmitted and without a tire order moves).',
    'PlacePendingTireOrders takes it on its next run after its grace period (PENDING_GRACE_SECONDS, 30 s).',
    'Exit code 1 if any id was not a failed order.',
  ],
  positionals: [
    {
      name: 'CAR_ORDER_ID',
      description: 'Car order ids as listed by "b2b orders failed"',
      required: true,
      variadic: true,
    },
  ],
  examples: [
    'b2b orders retry 6f1c2e0a-3b7d-4c55-9d7e-0f3b2a1c9e88',
    'b2b orders retry ID1 ID2 --json',
    'b2b orders retry 6f1c2e0a-... --stage dev',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    for (const id of input.positionals) {
      if (!OrderId.safeParse(id).success)
        throw new UsageError(`"${id}" is not an order id (1-64 characters of A-Z, a-z, 0-9, _ or -)`);
    }
    const result = await retryFailedOrders(await context.target(), input.positionals, context.now());
    const human = [
      ...result.items.map((item) =>
        item.outcome === 'requeued'
          ? `${item.carOrderId}  requeued (due ${item.dueAt})`
          : `${item.carOrderId}  ${item.reason}`,
      ),
      '',
      `${result.requeued} requeued, ${result.failed} failed.`,
    ];
    return { data: result, human, exitCode: result.failed > 0 ? 1 : 0 };
  },
};
