import {
  booleanOption,
  integerOption,
  stringOption,
  UsageError,
  type CommandContext,
  type CommandInput,
  type CommandResult,
  type CommandSpec,
} from '../command.js';
import { awsAccessLogRecords, localAuditRecords, readLocalAudit, type AuditRecord } from '../lib/audit-source.js';
import { follow, FOLLOW_OPTIONS, followBound } from '../lib/follow.js';
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
  /** A status code (403) or class (4xx); `refused` for refused tokens. */
  status?: string;
  /** Which layer answered (waf, resource-policy, authorizer, api-key, usage-plan, validation, integration). */
  layer?: string;
  sourceIp?: string;
  limit: number;
  next?: string;
}

export interface AuditResult {
  source: string;
  since?: string;
  clientId?: string;
  records: AuditRecord[];
  truncated: boolean;
  /** When older entries match too: pass it as --next for the page before this one. */
  nextToken?: string;
  notes: string[];
}

export const AUDIT_LAYERS = [
  'waf',
  'resource-policy',
  'authorizer',
  'api-key',
  'usage-plan',
  'validation',
  'integration',
] as const;

/** API Gateway's access-log errorType, by the layer that set it (locally the layer is recorded as it is). */
const AWS_LAYER_OF: [RegExp, (typeof AUDIT_LAYERS)[number]][] = [
  [/^WAF/, 'waf'],
  [/^AUTHORIZER|^UNAUTHORIZED|^EXPIRED_TOKEN|^MISSING_AUTHENTICATION_TOKEN/, 'authorizer'],
  [/^ACCESS_DENIED/, 'resource-policy'],
  [/^INVALID_API_KEY/, 'api-key'],
  [/^THROTTLED|^QUOTA_EXCEEDED/, 'usage-plan'],
  [/^BAD_REQUEST_(BODY|PARAMETERS)/, 'validation'],
];

/** The layer that answered a request: recorded locally, derived from the error type on AWS. */
export function layerOf(record: AuditRecord): string | undefined {
  if (record.kind !== 'request') return undefined;
  if (!record.detail) return 'integration';
  if ((AUDIT_LAYERS as readonly string[]).includes(record.detail)) return record.detail;
  return AWS_LAYER_OF.find(([pattern]) => pattern.test(record.detail!))?.[1] ?? 'integration';
}

function statusMatches(record: AuditRecord, status: string): boolean {
  if (status === 'refused' || status === 'issued') return record.outcome === status;
  if (record.status === undefined) return false;
  return /^\dxx$/.test(status) ? String(record.status)[0] === status[0] : String(record.status) === status;
}

function matcher(query: AuditQuery): (record: AuditRecord) => boolean {
  return (record) =>
    (!query.since || record.time >= iso(query.since)) &&
    (!query.until || record.time < iso(query.until)) &&
    (!query.clientId || record.clientId === query.clientId || record.claimedClientId === query.clientId) &&
    (!query.status || statusMatches(record, query.status)) &&
    (!query.layer || layerOf(record) === query.layer) &&
    (!query.sourceIp || record.sourceIp === query.sourceIp);
}

/** A page of an oldest-first list: the most recent `limit` entries before the token's position. */
function pageOf(
  records: readonly AuditRecord[],
  limit: number,
  next: AuditPageToken | undefined,
): { records: AuditRecord[]; nextToken?: string } {
  let candidates = records;
  if (next) {
    candidates = records.filter((record) => record.time <= next.until);
    let drop = next.seen;
    while (drop > 0 && candidates.length > 0 && candidates.at(-1)!.time === next.until) {
      candidates = candidates.slice(0, -1);
      drop -= 1;
    }
  }
  const page = candidates.slice(-limit);
  if (candidates.length <= limit || page.length === 0) return { records: page };
  const oldest = page[0]!.time;
  const seen = page.filter((record) => record.time === oldest).length + (next?.until === oldest ? next.seen : 0);
  return { records: page, nextToken: Buffer.from(JSON.stringify({ until: oldest, seen })).toString('base64url') };
}

interface AuditPageToken {
  /** The oldest time already shown. */
  until: string;
  /** How many entries of exactly that time were shown (the newest ones of it). */
  seen: number;
}

export function parseAuditToken(token: string): AuditPageToken {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<AuditPageToken>;
    if (typeof value.until === 'string' && !Number.isNaN(Date.parse(value.until)) && Number.isInteger(value.seen))
      return { until: value.until, seen: value.seen! };
  } catch {
    // below
  }
  throw new UsageError('--next is not a token a previous "b2b audit" printed');
}

/** Enough access-log lines to page through an hour of a busy stage; more, and --since/--until must narrow it. */
const AWS_READ_CAP = 10_000;

export async function readAudit(target: Target, query: AuditQuery): Promise<AuditResult> {
  const matches = matcher(query);
  const next = query.next ? parseAuditToken(query.next) : undefined;
  if (target.local) {
    const page = pageOf(localAuditRecords(readLocalAudit(target)).filter(matches), query.limit, next);
    return {
      source: target.local.auditPath,
      ...(query.since ? { since: iso(query.since) } : {}),
      ...(query.clientId ? { clientId: query.clientId } : {}),
      // The most recent ones when there are more than the limit.
      records: page.records,
      truncated: page.nextToken !== undefined,
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
      notes: [],
    };
  }
  return readAwsAudit(target, query, next, matches);
}

async function readAwsAudit(
  target: Target,
  query: AuditQuery,
  next: AuditPageToken | undefined,
  matches: (record: AuditRecord) => boolean,
): Promise<AuditResult> {
  const since = query.since ?? new Date(Date.now() - 60 * 60_000);
  // FilterLogEvents' endTime is inclusive, as the token's position is.
  const until = next ? new Date(Date.parse(next.until) + 1) : query.until;
  const filterPattern = query.clientId ? `{ $.clientId = ${JSON.stringify(query.clientId)} }` : undefined;
  const records: AuditRecord[] = [];
  const sources: string[] = [];
  for (const company of await target.resources.companies()) {
    sources.push(await target.resources.accessLogGroup(company));
    records.push(
      ...(await awsAccessLogRecords(target, company, {
        since,
        ...(until ? { until } : {}),
        ...(filterPattern ? { filterPattern } : {}),
        limit: AWS_READ_CAP,
      })),
    );
  }
  const sorted = records.filter(matches).sort((a, b) => a.time.localeCompare(b.time));
  const page = pageOf(sorted, query.limit, next);
  return {
    source: sources.join(', '),
    since: iso(since),
    ...(query.clientId ? { clientId: query.clientId } : {}),
    records: page.records,
    truncated: page.nextToken !== undefined,
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    notes: [
      'Tokens issued or refused by Amazon Cognito are not in the API access logs: CloudTrail records each token ' +
        'endpoint request as a Token_POST event (eventSource cognito-idp.amazonaws.com) with the client id, source ' +
        'address and status.',
      ...(query.since ? [] : ['Without --since the last hour is read.']),
      ...(query.clientId
        ? [
            'A call WAF blocked has no client id in the access log (WAF answers before the authorizer): find it ' +
              'with --source ADDRESS --layer waf.',
          ]
        : []),
    ],
  };
}

function auditTable(records: readonly AuditRecord[], header = true): string[] {
  const lines = table(records, [
    { header: 'TIME', value: (r) => r.time },
    { header: 'KIND', value: (r) => r.kind },
    { header: 'API', value: (r) => r.company },
    {
      header: 'CLIENT',
      value: (r) => r.clientId ?? (r.claimedClientId ? `${r.claimedClientId} (claimed)` : undefined),
    },
    { header: 'SOURCE', value: (r) => r.sourceIp },
    { header: 'METHOD', value: (r) => r.method },
    { header: 'PATH', value: (r) => r.path, max: 60 },
    { header: 'STATUS', value: (r) => r.status ?? r.outcome },
    { header: 'DETAIL', value: (r) => r.detail, max: 80 },
  ]);
  return header ? lines : lines.slice(1);
}

function humanAudit(result: AuditResult): string[] {
  const failures = result.records.filter(
    (r) => r.outcome === 'refused' || (r.status !== undefined && r.status >= 400),
  ).length;
  const lines = [
    `${result.records.length} entr${result.records.length === 1 ? 'y' : 'ies'}${result.truncated ? ' (most recent; more exist)' : ''}, ` +
      `${failures} refused or failed, from ${result.source}`,
  ];
  if (result.records.length > 0) lines.push('', ...auditTable(result.records));
  if (result.nextToken) lines.push('', `Older entries: --next ${result.nextToken}`);
  for (const note of result.notes) lines.push('', `Note: ${note}`);
  return lines;
}

/** Prints what matches now, then every new entry as it is written (one JSON line per entry with --json). */
async function followAudit(
  context: CommandContext,
  target: Target,
  query: AuditQuery,
  forMs: number | undefined,
): Promise<CommandResult> {
  let since = query.since;
  // Entries of the latest time printed, so one written in the same millisecond is printed once.
  let printedAtSince = new Set<string>();
  await follow(context, { intervalMs: target.local ? 500 : 10_000, ...(forMs ? { forMs } : {}) }, async () => {
    const result = await readAudit(target, { ...query, ...(since ? { since } : {}) });
    const fresh = result.records.filter((record) => !printedAtSince.has(JSON.stringify(record)));
    if (fresh.length === 0) return;
    for (const record of fresh) context.emit(auditTable([record], false), record);
    const latest = fresh.at(-1)!.time;
    const sameTime = result.records.filter((record) => record.time === latest).map((r) => JSON.stringify(r));
    printedAtSince = new Set(since && iso(since) === latest ? [...printedAtSince, ...sameTime] : sameTime);
    since = new Date(latest);
  });
  return { data: null, human: [], streamed: true };
}

export const auditCommand: CommandSpec = {
  path: ['audit'],
  summary: 'Every token issued or refused and every API call, failures included',
  description: [
    'Lists, oldest first: token requests (issued or refused, with the error) and calls to either API (time,',
    "client, source address, method, path, status and which stage answered). Locally from the runtime's audit",
    "log; on AWS from both API stages' access logs (tokens: see CloudTrail Token_POST events). A page holds the",
    'most recent --limit entries; --next TOKEN goes back one page. --client also matches calls refused without a',
    'verified client (WAF, resource policy, authorizer) by the client id their token claims, marked "(claimed)".',
  ],
  options: {
    since: {
      type: 'string',
      valueName: 'TIME',
      description: 'Only entries at or after TIME (ISO 8601, "now", "-15m")',
    },
    until: { type: 'string', valueName: 'TIME', description: 'Only entries before TIME' },
    client: { type: 'string', valueName: 'ID', description: 'Only entries of this app client id' },
    status: {
      type: 'string',
      valueName: 'S',
      description: 'Only this status: a code (403), a class (4xx), or refused/issued for tokens',
    },
    layer: { type: 'string', valueName: 'L', description: `Only calls answered by L: ${AUDIT_LAYERS.join(', ')}` },
    source: { type: 'string', valueName: 'IP', description: 'Only calls from this source address' },
    limit: { type: 'string', valueName: 'N', description: 'At most N entries, the most recent (default 1000)' },
    next: { type: 'string', valueName: 'TOKEN', description: 'The page before: the token a previous page printed' },
    ...FOLLOW_OPTIONS,
  },
  examples: [
    'b2b audit --since -15m',
    'b2b audit --client 4f8k2example --json',
    'b2b audit --status 4xx --layer waf --source 203.0.113.9',
    'b2b audit --limit 50 --next eyJ1bnRpbCI6IjIwMjYtMDUtMDFUMTA6MDA6MDBaIiwic2VlbiI6MX0',
    'b2b audit --follow --status 4xx',
    'b2b audit --stage dev --since 2026-05-01T10:00:00Z',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const query = auditQueryOf(input, context.now());
    const target = await context.target();
    if (booleanOption(input, 'follow')) {
      if (query.next) throw new UsageError('--follow shows new entries: it takes no --next');
      return followAudit(context, target, query, followBound(input));
    }
    const result = await readAudit(target, query);
    return { data: result, human: humanAudit(result) };
  },
};

function auditQueryOf(input: CommandInput, now: Date): AuditQuery {
  const sinceText = stringOption(input, 'since');
  const untilText = stringOption(input, 'until');
  const since = sinceText ? parseInstant(sinceText, 'since', now) : undefined;
  const until = untilText ? parseInstant(untilText, 'until', now) : undefined;
  if (since && until && since >= until) throw new UsageError('--since must be before --until');
  const status = stringOption(input, 'status');
  if (status !== undefined && !/^(\d{3}|\dxx|refused|issued)$/.test(status))
    throw new UsageError(`--status must be a status code (403), a class (4xx), refused or issued, not "${status}"`);
  const layer = stringOption(input, 'layer');
  if (layer !== undefined && !(AUDIT_LAYERS as readonly string[]).includes(layer))
    throw new UsageError(`--layer must be one of ${AUDIT_LAYERS.join(', ')}, not "${layer}"`);
  const next = stringOption(input, 'next');
  if (next !== undefined) parseAuditToken(next);
  const clientId = stringOption(input, 'client');
  const sourceIp = stringOption(input, 'source');
  return {
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    ...(clientId ? { clientId } : {}),
    ...(status ? { status } : {}),
    ...(layer ? { layer } : {}),
    ...(sourceIp ? { sourceIp } : {}),
    ...(next ? { next } : {}),
    limit: integerOption(input, 'limit', { min: 1, max: 100_000, default: 1000 }),
  };
}
