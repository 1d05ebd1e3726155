import type { AuditEntry, TimedAuditEntry } from '../../../local/audit.js';
import type { LocalRuntime } from '../../../local/runtime.js';

export type RequestEntry = Extract<TimedAuditEntry, { kind: 'request' }>;
export type DeliveryEntry = Extract<TimedAuditEntry, { kind: 'delivery' }>;
export type EventEntry = Extract<TimedAuditEntry, { kind: 'event' }>;

export function entriesOf<K extends AuditEntry['kind']>(
  runtime: LocalRuntime,
  kind: K,
): Extract<TimedAuditEntry, { kind: K }>[] {
  return runtime.audit.read().filter((entry): entry is Extract<TimedAuditEntry, { kind: K }> => entry.kind === kind);
}

/** The gateway's audit entry of one request, by the x-amzn-RequestId it answered with. */
export function requestEntry(runtime: LocalRuntime, requestId: string | undefined): RequestEntry {
  const entry = entriesOf(runtime, 'request').find((candidate) => candidate.requestId === requestId);
  if (!entry) throw new Error(`no audit entry for request ${requestId}`);
  return entry;
}
