import type { TimedAuditEntry } from '../client/audit.js';
import type { DeliveryRow, RefusalRow } from './views.js';

/**
 * Deliveries and refusals from the local runtime's audit log (client/audit.ts), newest first. On a deployed stage
 * the refusals come from the APIs' access logs (sections.ts) and delivery attempts are not recorded per attempt.
 */

type Entry<K extends TimedAuditEntry['kind']> = Extract<TimedAuditEntry, { kind: K }>;

export function deliveryRows(entries: readonly TimedAuditEntry[], max: number): DeliveryRow[] {
  // The car API's answer to a callback is recorded (with its latency) just before the delivery that got it.
  const lastCallback = new Map<string, Entry<'request'>>();
  const rows: DeliveryRow[] = [];
  for (const entry of entries) {
    if (entry.kind === 'request' && entry.company === 'car-orders' && entry.method === 'PATCH' && entry.correlationId)
      lastCallback.set(entry.correlationId, entry);
    if (entry.kind !== 'delivery') continue;
    const answered = entry.correlationId ? lastCallback.get(entry.correlationId) : undefined;
    // The path is /<stage>/orders/<id>.
    const carOrderId = answered?.path.split('/').pop();
    rows.push({
      time: entry.time,
      eventId: entry.eventId,
      ...(carOrderId ? { carOrderId } : {}),
      attempt: entry.attempt,
      outcome: entry.outcome,
      ...(entry.status !== undefined ? { status: entry.status } : {}),
      ...(answered && answered.status === entry.status ? { latencyMs: answered.latencyMs } : {}),
      ...(entry.error ? { error: entry.error } : {}),
      ...(entry.replayName ? { replayName: entry.replayName } : {}),
    });
    if (answered) lastCallback.delete(entry.correlationId!);
  }
  return rows.reverse().slice(0, max);
}

export function refusalRows(entries: readonly TimedAuditEntry[], max: number): RefusalRow[] {
  const rows: RefusalRow[] = [];
  for (const entry of entries) {
    const row = refusalOf(entry);
    if (row) rows.push(row);
  }
  return rows.reverse().slice(0, max);
}

/** A gateway stage's refusal (not the integration's: its 4xx is the handler's own answer), a token or listener one. */
function refusalOf(entry: TimedAuditEntry): RefusalRow | undefined {
  if (entry.kind === 'request' && entry.status >= 400 && entry.decidedBy !== 'integration') {
    return {
      time: entry.time,
      company: entry.company,
      layer: entry.decidedBy,
      status: entry.status,
      sourceIp: entry.sourceIp,
      ...(entry.clientId ? { clientId: entry.clientId } : {}),
      ...(entry.claimedClientId ? { claimedClientId: entry.claimedClientId } : {}),
      method: entry.method,
      path: entry.path,
      ...(entry.problem ? { problem: entry.problem } : {}),
    };
  }
  if (entry.kind === 'token' && entry.outcome === 'refused') {
    return {
      time: entry.time,
      company: entry.company,
      layer: 'token endpoint',
      status: 400,
      sourceIp: entry.sourceIp,
      ...(entry.clientId ? { clientId: entry.clientId } : {}),
      method: 'POST',
      path: '/oauth2/token',
      ...(entry.error ? { problem: entry.error } : {}),
    };
  }
  if (entry.kind === 'refused') {
    return {
      time: entry.time,
      company: entry.listener,
      layer: `listener (${entry.reason})`,
      status: entry.status,
      sourceIp: entry.sourceIp,
      ...(entry.method ? { method: entry.method } : {}),
      ...(entry.path ? { path: entry.path } : {}),
      ...(entry.origin ? { problem: `Origin ${entry.origin}` } : entry.error ? { problem: entry.error } : {}),
    };
  }
  return undefined;
}

/** The value below which 95 % of the values lie (nearest rank). */
export function p95(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.95) - 1)]!;
}

/** Per company API, the p95 latency of its calls in `buckets` equal slices of [from, to). */
export function localLatencyP95(
  entries: readonly TimedAuditEntry[],
  from: number,
  to: number,
  buckets: number,
): { api: string; points: (number | null)[] }[] {
  const width = (to - from) / buckets;
  const byApi = new Map<string, number[][]>();
  for (const entry of entries) {
    if (entry.kind !== 'request') continue;
    const at = Date.parse(entry.time);
    if (at < from || at >= to) continue;
    const slots = byApi.get(entry.company) ?? Array.from({ length: buckets }, () => []);
    slots[Math.floor((at - from) / width)]!.push(entry.latencyMs);
    byApi.set(entry.company, slots);
  }
  return [...byApi.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([api, slots]) => ({ api, points: slots.map(p95) }));
}
