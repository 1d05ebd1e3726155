import { paginateFilterLogEvents, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { OperatorError } from './errors.js';
import type { Company, ResourceLocator } from './locator.js';

/**
 * "Who called what" on a deployed stage: the two REST API stages' access logs (JSON lines, the format ServiceApi
 * configures), read with CloudWatch Logs FilterLogEvents. Used by `b2b audit`, `b2b replay` and the console. Locally
 * the runtime's audit log holds the same (client/audit.ts).
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
  locator: Pick<ResourceLocator, 'clients' | 'accessLogGroup'>,
  company: Company,
  query: AccessLogQuery,
): Promise<AuditRecord[]> {
  const logs = locator.clients.logs;
  if (!logs) throw new OperatorError('CloudWatch Logs is only read for a deployed stage.');
  const logGroupName = await locator.accessLogGroup(company);
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
