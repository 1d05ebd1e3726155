import type { RefusedEntry } from '../shared/http/guard.js';
import { readFileSync } from 'node:fs';

/**
 * What the local runtime's audit trail holds, one JSON line per fact under <state-dir>/audit.jsonl: every token
 * issued or refused, every API call with its status, every event published or replayed, every delivery attempt,
 * every scheduled run. The runtime writes it (local/audit.ts); operators read it (`audit`, `orders trace`, the
 * console).
 */
export type AuditEntry =
  | {
      kind: 'token';
      company: string;
      clientId?: string;
      outcome: 'issued' | 'refused';
      scope?: string;
      error?: string;
      sourceIp: string;
    }
  | {
      kind: 'request';
      company: string;
      clientId?: string;
      /**
       * A call refused without a verified client (WAF and resource policy answer before the authorizer): the
       * client id its bearer token names, unverified, so an operator can still find a partner's blocked calls.
       */
      claimedClientId?: string;
      apiKeyId?: string;
      sourceIp: string;
      method: string;
      path: string;
      status: number;
      /** Which stage answered: waf, resource-policy, authorizer, api-key, usage-plan, validation, integration. */
      decidedBy: string;
      /** A gateway refusal's problem detail (what the caller read), e.g. "Unauthorized" or a validation error. */
      problem?: string;
      requestId: string;
      correlationId?: string;
      latencyMs: number;
    }
  | {
      kind: 'event';
      bus: string;
      eventId: string;
      source: string;
      detailType: string;
      replayName?: string;
      correlationId?: string;
      detail: unknown;
    }
  | {
      kind: 'delivery';
      rule: string;
      eventId: string;
      attempt: number;
      url: string;
      status?: number;
      outcome: 'delivered' | 'retrying' | 'dead-lettered';
      error?: string;
      replayName?: string;
      correlationId?: string;
    }
  | { kind: 'schedule'; company: string; schedule: string; function: string; outcome: 'ok' | 'error'; error?: string }
  | {
      /** A declared alarm changed state (local/alarms.ts). */
      kind: 'alarm';
      company: string;
      alarm: string;
      state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
      previousState: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
      reason: string;
    }
  | (RefusedEntry & {
      /** The AWS error type of a signature refusal, e.g. InvalidSignatureException. */
      error?: string;
    })
  | {
      kind: 'invocation';
      company: string;
      function: string;
      durationMs: number;
      outcome: 'ok' | 'error' | 'timeout';
      error?: string;
    };

export type TimedAuditEntry = AuditEntry & { time: string };

/** Every entry of an audit file, oldest first; a file not written yet holds none. */
export function readAuditEntries(path: string): TimedAuditEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TimedAuditEntry);
}
