import { paginateFilterLogEvents, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { readAuditEntries } from './audit.js';
import { OperatorError } from './errors.js';
import type { FunctionLogGroup, LocalRuntimeInfo, ResourceLocator } from './locator.js';
import { getCarOrder, getTireOrder, type CarOrderRecord, type TireOrderRecord } from './orders.js';
import { traceOf } from './trace.js';

/**
 * An order's journey across both companies, joined by its correlation id (the car order item's `correlationId`,
 * carried as X-Correlation-Id into the tire order and its completion event). The order records of both companies
 * give the state changes; locally the runtime's audit log gives every API call, event and delivery attempt
 * (trace.ts); on AWS the functions' structured logs (Powertools JSON lines with `correlationId`) are searched with
 * CloudWatch Logs FilterLogEvents. Used by `b2b orders trace`, the demo and the console's timeline.
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

function recordHops(
  car: CarOrderRecord,
  tire: TireOrderRecord | undefined,
  withoutEventRecords: boolean,
): TraceHopView[] {
  const hops: TraceHopView[] = [];
  const add = (time: string | undefined, hop: string, detail: string) => {
    if (time) hops.push({ time, hop, detail, source: 'order records' });
  };
  add(car.createdAt, 'car order created', `car order ${car.id} by client ${car.clientId ?? '-'}`);
  if (tire) {
    add(
      tire.createdAt,
      'tire order placed',
      `tire order ${tire.id} for car order ${tire.carOrderId ?? '-'} by client ${tire.clientId ?? '-'}`,
    );
    add(tire.completedAt, 'fulfilment', `tire order ${tire.id} completed by the supplier's fulfilment job`);
    // The run's start time, not the instant of PutEvents: only shown where no event record exists (AWS).
    if (withoutEventRecords)
      add(
        tire.eventPublishedAt,
        'completion event',
        `TireOrderCompleted for ${tire.id} published by the fulfilment run`,
      );
  }
  // completedAt is the supplier's completion time carried by the callback; updatedAt is when the car maker applied it.
  if (car.status === 'OrderCompleted') {
    add(
      car.updatedAt ?? car.completedAt,
      'car order completed',
      `car order ${car.id} is OrderCompleted (tires completed ${car.completedAt ?? '-'})`,
    );
  }
  return hops;
}

function auditHops(local: LocalRuntimeInfo, correlationId: string): TraceHopView[] {
  return traceOf(readAuditEntries(local.auditPath), correlationId).map((hop) => {
    // A request is recorded when answered; it is placed at the instant it arrived, so a call shows before the
    // calls it made (the customer's order before the tire order it placed).
    const entry = hop.entry;
    const time = entry.kind === 'request' ? new Date(Date.parse(entry.time) - entry.latencyMs).toISOString() : hop.time;
    const detail = entry.kind === 'request' ? `${hop.detail} in ${Math.round(entry.latencyMs)} ms` : hop.detail;
    return { time, hop: hop.hop, detail, source: 'audit log' as const };
  });
}

async function logGroupHops(
  logs: CloudWatchLogsClient,
  group: FunctionLogGroup,
  correlationId: string,
  since: Date,
): Promise<TraceHopView[]> {
  const hops: TraceHopView[] = [];
  const input = {
    logGroupName: group.logGroupName,
    startTime: since.getTime(),
    filterPattern: `{ $.correlationId = ${JSON.stringify(correlationId)} }`,
  };
  for await (const page of paginateFilterLogEvents({ client: logs }, input)) {
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
  }
  return hops;
}

async function functionLogHops(locator: ResourceLocator, correlationId: string, since: Date): Promise<TraceHopView[]> {
  const logs = locator.clients.logs;
  if (!logs) throw new OperatorError('CloudWatch Logs is only read for a deployed stage.');
  const hops: TraceHopView[] = [];
  for (const group of await locator.functionLogGroups())
    hops.push(...(await logGroupHops(logs, group, correlationId, since)));
  return hops;
}

const AWS_NOTE =
  "On AWS the API access logs carry no correlation id; the hops come from the order records and the functions' " +
  "logs. Delivery attempts of the API destination are visible as completion callbacks in the car maker's logs.";

export async function traceOrder(locator: ResourceLocator, carOrderId: string): Promise<OrderTrace> {
  const car = await getCarOrder(locator, carOrderId);
  if (!car) throw new OperatorError(`No car order ${carOrderId} on ${locator.label}.`);
  if (!car.correlationId) throw new OperatorError(`Car order ${carOrderId} has no correlation id.`);
  const tire = car.tireOrderId ? await getTireOrder(locator, car.tireOrderId) : undefined;
  const hops = recordHops(car, tire, !locator.local);
  const notes: string[] = [];
  if (locator.local) {
    hops.push(...auditHops(locator.local, car.correlationId));
  } else {
    const since = new Date(Date.parse(car.createdAt ?? new Date().toISOString()) - 5 * 60_000);
    hops.push(...(await functionLogHops(locator, car.correlationId, since)));
    notes.push(AWS_NOTE);
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
