import {
  integerOption,
  stringOption,
  UsageError,
  type CommandContext,
  type CommandResult,
  type CommandSpec,
} from '../command.js';
import { awsAccessLogRecords, localAuditRecords, readLocalAudit, type AuditRecord } from '../lib/audit-source.js';
import { table } from '../output.js';
import type { Target } from '../target.js';
import { iso, parseInstant } from '../time.js';

/**
 * `b2b audit`: every token issued or refused and every call to either API (time, client, source address, method,
 * path, status), failures included. Locally from the runtime's audit log; on AWS from both API stages' access logs.
 */

export interface AuditQuery {
  since?: Date;
  until?: Date;
  clientId?: string;
  limit: number;
}

export interface AuditResult {
  source: string;
  since?: string;
  clientId?: string;
  records: AuditRecord[];
  truncated: boolean;
  notes: string[];
}

export async function readAudit(target: Target, query: AuditQuery): Promise<AuditResult> {
  const matches = (record: AuditRecord) =>
    (!query.since || record.time >= iso(query.since)) &&
    (!query.until || record.time < iso(query.until)) &&
    (!query.clientId || record.clientId === query.clientId);
  if (target.local) {
    const records = localAuditRecords(readLocalAudit(target)).filter(matches);
    return {
      source: target.local.auditPath,
      ...(query.since ? { since: iso(query.since) } : {}),
      ...(query.clientId ? { clientId: query.clientId } : {}),
      // The most recent ones when there are more than the limit.
      records: records.slice(-query.limit),
      truncated: records.length > query.limit,
      notes: [],
    };
  }
  const since = query.since ?? new Date(Date.now() - 60 * 60_000);
  const filterPattern = query.clientId ? `{ $.clientId = ${JSON.stringify(query.clientId)} }` : undefined;
  const records: AuditRecord[] = [];
  const sources: string[] = [];
  for (const company of await target.resources.companies()) {
    sources.push(await target.resources.accessLogGroup(company));
    records.push(
      ...(await awsAccessLogRecords(target, company, {
        since,
        ...(query.until ? { until: query.until } : {}),
        ...(filterPattern ? { filterPattern } : {}),
        limit: query.limit + 1,
      })),
    );
  }
  const sorted = records.filter(matches).sort((a, b) => a.time.localeCompare(b.time));
  return {
    source: sources.join(', '),
    since: iso(since),
    ...(query.clientId ? { clientId: query.clientId } : {}),
    records: sorted.slice(-query.limit),
    truncated: sorted.length > query.limit,
    notes: [
      'Tokens issued or refused by Amazon Cognito are not in the API access logs: CloudTrail records each token ' +
        'endpoint request as a Token_POST event (eventSource cognito-idp.amazonaws.com) with the client id, source ' +
        'address and status.',
      ...(query.since ? [] : ['Without --since the last hour is read.']),
    ],
  };
}

function humanAudit(result: AuditResult): string[] {
  const failures = result.records.filter(
    (r) => r.outcome === 'refused' || (r.status !== undefined && r.status >= 400),
  ).length;
  const lines = [
    `${result.records.length} entr${result.records.length === 1 ? 'y' : 'ies'}${result.truncated ? ' (most recent; more exist)' : ''}, ` +
      `${failures} refused or failed, from ${result.source}`,
  ];
  if (result.records.length > 0) {
    lines.push(
      '',
      ...table(result.records, [
        { header: 'TIME', value: (r) => r.time },
        { header: 'KIND', value: (r) => r.kind },
        { header: 'API', value: (r) => r.company },
        { header: 'CLIENT', value: (r) => r.clientId },
        { header: 'SOURCE', value: (r) => r.sourceIp },
        { header: 'METHOD', value: (r) => r.method },
        { header: 'PATH', value: (r) => r.path, max: 60 },
        { header: 'STATUS', value: (r) => r.status ?? r.outcome },
        { header: 'DETAIL', value: (r) => r.detail, max: 80 },
      ]),
    );
  }
  for (const note of result.notes) lines.push('', `Note: ${note}`);
  return lines;
}

export const auditCommand: CommandSpec = {
  path: ['audit'],
  summary: 'Every token issued or refused and every API call, failures included',
  description: [
    'Lists, oldest first: token requests (issued or refused, with the error) and calls to either API (time,',
    "client, source address, method, path, status and which stage answered). Locally from the runtime's audit",
    "log; on AWS from both API stages' access logs (tokens: see CloudTrail Token_POST events).",
  ],
  options: {
    since: {
      type: 'string',
      valueName: 'TIME',
      description: 'Only entries at or after TIME (ISO 8601, "now", "-15m")',
    },
    until: { type: 'string', valueName: 'TIME', description: 'Only entries before TIME' },
    client: { type: 'string', valueName: 'ID', description: 'Only entries of this app client id' },
    limit: { type: 'string', valueName: 'N', description: 'At most N entries, the most recent (default 1000)' },
  },
  examples: [
    'b2b audit --since -15m',
    'b2b audit --client 4f8k2example --json',
    'b2b audit --stage dev --since 2026-05-01T10:00:00Z',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const now = context.now();
    const sinceText = stringOption(input, 'since');
    const untilText = stringOption(input, 'until');
    const since = sinceText ? parseInstant(sinceText, 'since', now) : undefined;
    const until = untilText ? parseInstant(untilText, 'until', now) : undefined;
    if (since && until && since >= until) throw new UsageError('--since must be before --until');
    const clientId = stringOption(input, 'client');
    const result = await readAudit(await context.target(), {
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(clientId ? { clientId } : {}),
      limit: integerOption(input, 'limit', { min: 1, max: 100_000, default: 1000 }),
    });
    return { data: result, human: humanAudit(result) };
  },
};
