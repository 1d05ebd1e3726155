import { GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { awsAccessLogRecords } from '../client/access-logs.js';
import { readAuditEntries, type TimedAuditEntry } from '../client/audit.js';
import { listDeadLetters } from '../client/dead-letters.js';
import type { ResourceLocator } from '../client/locator.js';
import { listCarOrders } from '../client/orders.js';
import { listPartnerRecords } from '../client/partners.js';
import { deliveryRows, localLatencyP95, refusalRows } from './activity.js';
import {
  alarmRow,
  deadLetterRows,
  ORDER_STATES,
  orderRow,
  partnerRow,
  type OrderState,
  type RefusalRow,
  type Snapshot,
  type Throughput,
} from './views.js';

/**
 * How each section of the page is read through the ResourceLocator, locally and on a deployed stage. Every read
 * is a read: listing the dead-letter queue receives its messages and releases them at once (SQS has no peek).
 */

const HOUR = 3_600_000;
const MAX_ORDERS = 1_000;
const MAX_ROWS = 100;

type Sections = Omit<Snapshot, 'target' | 'generatedAt' | 'errors' | 'readOnly' | 'actions'>;
export type SectionName = keyof Sections;

export interface SectionSource<K extends SectionName> {
  /** How long a read stays fresh: every poll locally; on AWS longer, so a watching page costs little. */
  maxAgeMs: { local: number; aws: number };
  read(locator: ResourceLocator, now: Date): Promise<Sections[K]>;
}

const auditOf = (locator: ResourceLocator): TimedAuditEntry[] =>
  locator.local ? readAuditEntries(locator.local.auditPath) : [];

async function orders(locator: ResourceLocator): Promise<Sections['orders']> {
  const page = await listCarOrders(locator, { limit: MAX_ORDERS });
  const counts = Object.fromEntries(ORDER_STATES.map((state) => [state, 0])) as Record<OrderState, number>;
  const rows = page.orders.map(orderRow);
  for (const row of rows) counts[row.state] += 1;
  rows.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  return { counts, rows, more: page.nextToken !== undefined };
}

async function refusals(locator: ResourceLocator, now: Date): Promise<Sections['refusals']> {
  if (locator.local) return { rows: refusalRows(auditOf(locator), MAX_ROWS) };
  const rows: RefusalRow[] = [];
  for (const company of await locator.companies()) {
    const records = await awsAccessLogRecords(locator, company, {
      since: new Date(now.getTime() - HOUR),
      filterPattern: '{ $.status >= 400 }',
      limit: MAX_ROWS,
    });
    for (const r of records) {
      rows.push({
        time: r.time,
        company,
        layer: r.detail ?? 'gateway',
        ...(r.status !== undefined ? { status: r.status } : {}),
        ...(r.sourceIp ? { sourceIp: r.sourceIp } : {}),
        ...(r.clientId ? { clientId: r.clientId } : {}),
        ...(r.method ? { method: r.method } : {}),
        ...(r.path ? { path: r.path } : {}),
      });
    }
  }
  rows.sort((a, b) => b.time.localeCompare(a.time));
  return {
    rows: rows.slice(0, MAX_ROWS),
    note: "From the APIs' access logs (last hour): the layer is API Gateway's error type; no problem detail is logged.",
  };
}

/** Orders per minute from the order records (both targets); p95 per API from the audit log or CloudWatch. */
async function throughput(locator: ResourceLocator, now: Date): Promise<Throughput> {
  const to = Math.ceil(now.getTime() / 60_000) * 60_000;
  const from = to - HOUR;
  const page = await listCarOrders(locator, { limit: MAX_ORDERS, since: new Date(from).toISOString() });
  const ordersPerMinute = Array.from({ length: 60 }, () => 0);
  for (const order of page.orders) {
    const at = Date.parse(order.createdAt ?? '');
    if (at >= from && at < to) ordersPerMinute[Math.floor((at - from) / 60_000)]! += 1;
  }
  const latencyP95 = locator.local
    ? localLatencyP95(auditOf(locator), from, to, 12)
    : await stageLatencyP95(locator, from, to);
  return { ordersPerMinute, latencyP95, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

/** CloudWatch's p95 of AWS/ApiGateway Latency per REST API stage, in 5-minute periods. */
async function stageLatencyP95(locator: ResourceLocator, from: number, to: number): Promise<Throughput['latencyP95']> {
  const cloudWatch = locator.clients.cloudWatch;
  if (!cloudWatch) return [];
  const series: Throughput['latencyP95'] = [];
  for (const company of await locator.companies()) {
    const api = await locator.restApi(company);
    const result = await cloudWatch.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/ApiGateway',
        MetricName: 'Latency',
        Dimensions: [
          { Name: 'ApiName', Value: api.name },
          { Name: 'Stage', Value: api.stageName },
        ],
        StartTime: new Date(from),
        EndTime: new Date(to),
        Period: 300,
        ExtendedStatistics: ['p95'],
      }),
    );
    const points: (number | null)[] = Array.from({ length: 12 }, () => null);
    for (const point of result.Datapoints ?? []) {
      const slot = Math.floor(((point.Timestamp?.getTime() ?? 0) - from) / 300_000);
      const value = point.ExtendedStatistics?.p95;
      if (slot >= 0 && slot < 12 && value !== undefined) points[slot] = value;
    }
    series.push({ api: company, points });
  }
  return series;
}

export const SECTIONS: { [K in SectionName]: SectionSource<K> } = {
  orders: { maxAgeMs: { local: 0, aws: 5_000 }, read: (locator) => orders(locator) },
  deliveries: {
    maxAgeMs: { local: 0, aws: 3_600_000 },
    read: async (locator) =>
      locator.local
        ? { rows: deliveryRows(auditOf(locator), MAX_ROWS) }
        : {
            rows: [],
            note: 'A deployed stage records no attempt-by-attempt log of API destination deliveries; the DLQ holds the failed ones.',
          },
  },
  deadLetters: {
    maxAgeMs: { local: 0, aws: 10_000 },
    read: async (locator) => {
      const list = await listDeadLetters(locator, MAX_ROWS);
      return {
        ...(list.approximateVisible !== undefined ? { approximateVisible: list.approximateVisible } : {}),
        rows: deadLetterRows(list),
      };
    },
  },
  refusals: { maxAgeMs: { local: 0, aws: 30_000 }, read: refusals },
  partners: {
    maxAgeMs: { local: 0, aws: 30_000 },
    read: async (locator, now) => (await listPartnerRecords(locator)).map((record) => partnerRow(record, now)),
  },
  alarms: { maxAgeMs: { local: 0, aws: 30_000 }, read: async (locator) => (await locator.alarms()).map(alarmRow) },
  throughput: { maxAgeMs: { local: 5_000, aws: 60_000 }, read: throughput },
};
