import { OrdersTable } from '../../car-orders/adapters/orders-table.js';
import type { CarOrder } from '../../car-orders/domain/car-order.js';
import { traceOrder, type OrderTrace } from '../../client/order-trace.js';
import { OrderId } from '../../shared/contracts.js';
import { integerOption, UsageError, type CommandContext, type CommandResult, type CommandSpec } from '../command.js';
import { table } from '../output.js';
import type { Target } from '../target.js';

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
  examples: [
    'b2b orders trace 6f1c2e0a-3b7d-4c55-9d7e-0f3b2a1c9e88',
    'b2b orders trace 6f1c2e0a-... --json',
    'b2b orders trace 6f1c2e0a-... --stage dev',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const id = input.positionals[0]!;
    if (!OrderId.safeParse(id).success)
      throw new UsageError(`"${id}" is not an order id (1-64 characters of A-Z, a-z, 0-9, _ or -)`);
    const trace = await traceOrder((await context.target()).resources, id);
    return { data: trace, human: humanTrace(trace) };
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
export async function listFailedOrders(target: Target, max: number): Promise<FailedOrderList> {
  const table = await carOrdersTable(target);
  const orders: FailedOrderView[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.failedPage(Math.min(QUERY_PAGE_LIMIT, max - orders.length), startKey);
    orders.push(...page.orders.map(failedOrderView));
    startKey = page.nextKey;
  } while (startKey !== undefined && orders.length < max);
  return { orders, more: startKey !== undefined };
}

export const ordersFailedCommand: CommandSpec = {
  path: ['orders', 'failed'],
  summary: 'List the car orders whose tire order the retry job gave up on (TIRE_ORDER_FAILED)',
  description: [
    'The supplier refused their tire order 10 times, so PlacePendingTireOrders stopped retrying; they stay',
    'OrderSubmitted. Read from the byWorkState index (oldest given-up first). Fix the cause, then "b2b orders retry".',
  ],
  options: { max: { type: 'string', valueName: 'N', description: 'List at most N orders (default 100)' } },
  examples: ['b2b orders failed', 'b2b orders failed --max 20 --json', 'b2b orders failed --stage dev'],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const max = integerOption(input, 'max', { min: 1, max: 10_000, default: 100 });
    const target = await context.target();
    const list = await listFailedOrders(target, max);
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
