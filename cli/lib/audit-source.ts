import { paginateFilterLogEvents, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { readAuditEntries, type TimedAuditEntry } from '../../client/audit.js';
import { OperatorError } from '../command.js';
import type { Company, Target } from '../target.js';

/**
 * Where "who called what" comes from. Locally: the runtime's audit log (<state-dir>/audit.jsonl), which records
 * every token issued or refused and every API call with the stage that answered it. On AWS: the two REST API
 * stages' access logs (JSON lines, the format ServiceApi configures), read with CloudWatch Logs FilterLogEvents.
 */

export interface AuditRecord {
  time: string;
  kind: 'token' | 'request';
  company: string;
  clientId?: string;
  /** Locally, for a call refused before the authorizer: the client its (unverified) token names. */
  claimedClientId?: string;
  sourceIp?: string;
  method?: string;
  path?: string;
  status?: number;
  /** Tokens: issued or refused. */
  outcome?: 'issued' | 'refused';
  /** Requests: which stage answered (local) or the gateway error type (AWS); tokens: scope or the refusal error. */
  detail?: string;
  apiKeyId?: string;
  correlationId?: string;
}

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

/** One API's access log line, as ServiceApi's accessLogFormat writes it. */
interface AccessLogLine {
  requestId?: string;
  sourceIp?: string;
  httpMethod?: string;
  resourcePath?: string;
  status?: string;
  clientId?: string;
  apiKeyId?: string;
  errorType?: string;
  wafResponseCode?: string;
}

export interface AccessLogQuery {
  since: Date;
  until?: Date;
  /** CloudWatch Logs filter pattern, e.g. `{ $.clientId = "abc" }`. */
  filterPattern?: string;
  limit: number;
}

export async function awsAccessLogRecords(
  target: Target,
  company: Company,
  query: AccessLogQuery,
): Promise<AuditRecord[]> {
  const logs = target.clients.logs;
  if (!logs) throw new OperatorError('CloudWatch Logs is only read for a deployed stage.');
  const logGroupName = await target.resources.accessLogGroup(company);
  const records: AuditRecord[] = [];
  const input = {
    logGroupName,
    startTime: query.since.getTime(),
    ...(query.until ? { endTime: query.until.getTime() } : {}),
    ...(query.filterPattern ? { filterPattern: query.filterPattern } : {}),
  };
  for await (const page of paginateFilterLogEvents({ client: logs }, input)) {
    for (const event of page.events ?? []) {
      const record = accessLogRecord(company, event);
      if (record) records.push(record);
      if (records.length >= query.limit) return records;
    }
  }
  return records;
}

export function accessLogRecord(company: Company, event: FilteredLogEvent): AuditRecord | undefined {
  let line: AccessLogLine;
  try {
    line = JSON.parse(event.message ?? '') as AccessLogLine;
  } catch {
    return undefined;
  }
  const dash = (value: string | undefined) =>
    value === undefined || value === '-' || value === '' ? undefined : value;
  const status = Number(line.status);
  const clientId = dash(line.clientId);
  const sourceIp = dash(line.sourceIp);
  const method = dash(line.httpMethod);
  const path = dash(line.resourcePath);
  const apiKeyId = dash(line.apiKeyId);
  const detail = dash(line.errorType) ?? (dash(line.wafResponseCode) === 'WAF_BLOCK' ? 'WAF_BLOCK' : undefined);
  return {
    time: new Date(event.timestamp ?? 0).toISOString(),
    kind: 'request',
    company,
    ...(clientId ? { clientId } : {}),
    ...(sourceIp ? { sourceIp } : {}),
    ...(method ? { method } : {}),
    ...(path ? { path } : {}),
    ...(Number.isFinite(status) ? { status } : {}),
    ...(detail ? { detail } : {}),
    ...(apiKeyId ? { apiKeyId } : {}),
  };
}
