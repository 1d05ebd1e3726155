import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { traceOf } from '../../local/trace.js';
import { OrderId } from '../../shared/contracts.js';
import { OperatorError, UsageError, type CommandContext, type CommandResult, type CommandSpec } from '../command.js';
import { readLocalAudit } from '../lib/audit-source.js';
import { getCarOrder, getTireOrder, type CarOrderRecord, type TireOrderRecord } from '../lib/orders.js';
import { table } from '../output.js';
import type { Target } from '../target.js';

/**
 * `b2b orders trace CAR_ORDER_ID`: the order's journey across both companies, joined by its correlation id (the
 * car order item's `correlationId`, carried as X-Correlation-Id into the tire order and its completion event).
 * The order records of both companies give the state changes; locally the runtime's audit log gives every API
 * call, event and delivery attempt (local/trace.ts); on AWS the functions' structured logs (Powertools JSON lines
 * with `correlationId`) are searched with CloudWatch Logs FilterLogEvents.
 */

export interface TraceHopView {
  time: string;
  hop: string;
  detail: string;
  source: 'order records' | 'audit log' | 'function logs';
}

export interface OrderTrace {
  carOrderId: string;
  correlationId: string;
  status?: string;
  tireOrderId?: string;
  hops: TraceHopView[];
  notes: string[];
}

function recordHops(car: CarOrderRecord, tire: TireOrderRecord | undefined, withoutEventRecords: boolean): TraceHopView[] {
  const hops: TraceHopView[] = [];
  const add = (time: string | undefined, hop: string, detail: string) => {
    if (time) hops.push({ time, hop, detail, source: 'order records' });
  };
  add(car.createdAt, 'car order created', `car order ${car.id} by client ${car.clientId ?? '-'}`);
  if (tire) {
    add(tire.createdAt, 'tire order placed', `tire order ${tire.id} for car order ${tire.carOrderId ?? '-'} by client ${tire.clientId ?? '-'}`);
    add(tire.completedAt, 'fulfilment', `tire order ${tire.id} completed by the supplier's fulfilment job`);
    // The run's start time, not the instant of PutEvents: only shown where no event record exists (AWS).
    if (withoutEventRecords) add(tire.eventPublishedAt, 'completion event', `TireOrderCompleted for ${tire.id} published by the fulfilment run`);
  }
  // completedAt is the supplier's completion time carried by the callback; updatedAt is when the car maker applied it.
  if (car.status === 'OrderCompleted') {
    add(car.updatedAt ?? car.completedAt, 'car order completed', `car order ${car.id} is OrderCompleted (tires completed ${car.completedAt ?? '-'})`);
  }
  return hops;
}

async function functionLogHops(target: Target, correlationId: string, since: Date): Promise<TraceHopView[]> {
  const logs = target.clients.logs!;
  const hops: TraceHopView[] = [];
  for (const group of await target.resources.functionLogGroups()) {
    let nextToken: string | undefined;
    do {
      const page = await logs.send(
        new FilterLogEventsCommand({
          logGroupName: group.logGroupName,
          startTime: since.getTime(),
          filterPattern: `{ $.correlationId = ${JSON.stringify(correlationId)} }`,
          nextToken,
        }),
      );
      for (const event of page.events ?? []) {
        let line: { message?: string; level?: string };
        try {
          line = JSON.parse(event.message ?? '') as { message?: string; level?: string };
        } catch {
          line = { message: event.message ?? '' };
        }
        hops.push({
          time: new Date(event.timestamp ?? 0).toISOString(),
          hop: `${group.company} ${group.functionName}`,
          detail: `${line.level ? `${line.level} ` : ''}${line.message ?? ''}`,
          source: 'function logs',
        });
      }
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return hops;
}

export async function traceOrder(target: Target, carOrderId: string): Promise<OrderTrace> {
  const car = await getCarOrder(target, carOrderId);
  if (!car) throw new OperatorError(`No car order ${carOrderId} on ${target.label}.`);
  if (!car.correlationId) throw new OperatorError(`Car order ${carOrderId} has no correlation id.`);
  const tire = car.tireOrderId ? await getTireOrder(target, car.tireOrderId) : undefined;
  const notes: string[] = [];
  const hops = recordHops(car, tire, !target.local);
  if (target.local) {
    for (const hop of traceOf(readLocalAudit(target), car.correlationId)) {
      // A request is recorded when answered; it is placed at the instant it arrived, so a call shows before the
      // calls it made (the customer's order before the tire order it placed).
      const entry = hop.entry;
      const time = entry.kind === 'request' ? new Date(Date.parse(entry.time) - entry.latencyMs).toISOString() : hop.time;
      const detail = entry.kind === 'request' ? `${hop.detail} in ${Math.round(entry.latencyMs)} ms` : hop.detail;
      hops.push({ time, hop: hop.hop, detail, source: 'audit log' });
    }
  } else {
    const since = new Date(Date.parse(car.createdAt ?? new Date().toISOString()) - 5 * 60_000);
    hops.push(...(await functionLogHops(target, car.correlationId, since)));
    notes.push(
      'On AWS the API access logs carry no correlation id; the hops come from the order records and the functions\' ' +
        'logs. Delivery attempts of the API destination are visible as completion callbacks in the car maker\'s logs.',
    );
  }
  // Same millisecond: the recorded request or event first, since a request is placed at its arrival, before the
  // order record its handler then writes.
  const order = { 'audit log': 0, 'function logs': 0, 'order records': 1 } as const;
  hops.sort((a, b) => a.time.localeCompare(b.time) || order[a.source] - order[b.source]);
  return {
    carOrderId,
    correlationId: car.correlationId,
    ...(car.status ? { status: car.status } : {}),
    ...(car.tireOrderId ? { tireOrderId: car.tireOrderId } : {}),
    hops,
    notes,
  };
}

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
  positionals: [{ name: 'CAR_ORDER_ID', description: 'The car order id (as returned by POST /orders)', required: true }],
  examples: ['b2b orders trace 6f1c2e0a-3b7d-4c55-9d7e-0f3b2a1c9e88', 'b2b orders trace 6f1c2e0a-... --json', 'b2b orders trace 6f1c2e0a-... --stage dev'],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const id = input.positionals[0]!;
    if (!OrderId.safeParse(id).success) throw new UsageError(`"${id}" is not an order id (1-64 characters of A-Z, a-z, 0-9, _ or -)`);
    const trace = await traceOrder(await context.target(), id);
    return { data: trace, human: humanTrace(trace) };
  },
};
