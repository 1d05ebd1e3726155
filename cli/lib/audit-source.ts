import { readAuditEntries, type TimedAuditEntry } from '../../client/audit.js';
import { OperatorError } from '../command.js';
import {
  awsAccessLogRecords as clientAccessLogRecords,
  type AccessLogQuery,
  type AuditRecord,
} from '../../client/access-logs.js';
import type { Company, Target } from '../target.js';

export { accessLogRecord, type AccessLogQuery, type AuditRecord } from '../../client/access-logs.js';

/**
 * Where "who called what" comes from. Locally: the runtime's audit log (<state-dir>/audit.jsonl), which records
 * every token issued or refused and every API call with the stage that answered it. On AWS: the two REST API
 * stages' access logs (JSON lines, the format ServiceApi configures), read with CloudWatch Logs FilterLogEvents.
 */

export function readLocalAudit(target: Target): TimedAuditEntry[] {
  if (!target.local) throw new OperatorError('The audit log file exists only for the local runtime.');
  return readAuditEntries(target.local.auditPath);
}

export function localAuditRecords(entries: readonly TimedAuditEntry[]): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (const entry of entries) {
    if (entry.kind === 'token') {
      records.push({
        time: entry.time,
        kind: 'token',
        company: entry.company,
        ...(entry.clientId ? { clientId: entry.clientId } : {}),
        sourceIp: entry.sourceIp,
        method: 'POST',
        path: '/oauth2/token',
        outcome: entry.outcome,
        ...(entry.outcome === 'refused'
          ? { detail: entry.error ?? 'refused' }
          : entry.scope
            ? { detail: entry.scope }
            : {}),
      });
    } else if (entry.kind === 'request') {
      records.push({
        time: entry.time,
        kind: 'request',
        company: entry.company,
        ...(entry.clientId ? { clientId: entry.clientId } : {}),
        ...(entry.claimedClientId ? { claimedClientId: entry.claimedClientId } : {}),
        sourceIp: entry.sourceIp,
        method: entry.method,
        path: entry.path,
        status: entry.status,
        detail: entry.decidedBy,
        ...(entry.apiKeyId ? { apiKeyId: entry.apiKeyId } : {}),
        ...(entry.correlationId ? { correlationId: entry.correlationId } : {}),
      });
    }
  }
  return records;
}

export function awsAccessLogRecords(target: Target, company: Company, query: AccessLogQuery): Promise<AuditRecord[]> {
  return clientAccessLogRecords(target.resources, company, query);
}
