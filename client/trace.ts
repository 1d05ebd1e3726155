import type { TimedAuditEntry } from './audit.js';

/**
 * An order's journey across both companies, joined by its correlation id: every API call, event and delivery
 * attempt the audit log recorded for it, in time order, each as one human line.
 */
export interface TraceHop {
  time: string;
  hop: string;
  detail: string;
  entry: TimedAuditEntry;
}

export function traceOf(entries: readonly TimedAuditEntry[], correlationId: string): TraceHop[] {
  const hops: TraceHop[] = [];
  for (const entry of entries) {
    if (!('correlationId' in entry) || entry.correlationId !== correlationId) continue;
    const hop = describe(entry);
    if (hop) hops.push({ time: entry.time, ...hop, entry });
  }
  return hops.sort((a, b) => a.time.localeCompare(b.time));
}

function describe(entry: TimedAuditEntry): { hop: string; detail: string } | undefined {
  switch (entry.kind) {
    case 'request': {
      const who = `client ${entry.clientId ?? '-'} from ${entry.sourceIp}${entry.apiKeyId ? ` with API key ${entry.apiKeyId}` : ''}`;
      const hop =
        entry.company === 'car-orders' && entry.method === 'POST'
          ? 'customer order'
          : entry.company === 'tire-orders' && entry.method === 'POST'
            ? 'tire order'
            : entry.company === 'car-orders' && entry.method === 'PATCH'
              ? 'completion callback'
              : `${entry.company} request`;
      return { hop, detail: `${entry.method} ${entry.path} -> ${entry.status} (${entry.decidedBy}; ${who})` };
    }
    case 'event':
      return {
        hop: entry.replayName ? 'event replayed' : 'event published',
        detail: `${entry.detailType} on ${entry.bus}${entry.replayName ? ` (replay ${entry.replayName})` : ''}`,
      };
    case 'delivery':
      return {
        hop: 'API destination',
        detail: `attempt ${entry.attempt} ${entry.outcome}${entry.status ? ` (${entry.status})` : ''}${entry.error ? `: ${entry.error}` : ''}`,
      };
    default:
      return undefined;
  }
}
