import { SUPPLIER_CALLS_PER_ORDER, peakTraffic, type CapacityDeclaration } from '../capacity.js';
import {
  checkChain,
  limitsFromTemplates,
  type ChainCheck,
  type TemplateJson,
  type TemplateLimits,
} from './request-path.js';
import prices from './aws-prices.json' with { type: 'json' };

/**
 * What `b2b capacity` reports, computed (pure) from the synthesized templates, the capacity declaration and the
 * price and quota data file (aws-prices.json): each limit in the request path with its headroom at the peak, the
 * AWS default quota each multiple of the peak uses up first, and the monthly list-price cost of one stage.
 */

export type PriceData = typeof prices;
export const AWS_PRICES: PriceData = prices;

/** The per-order work the cost and quota model assumes, beyond what the templates say. */
export interface WorkloadAssumptions {
  /** Lambda invocations per order with their memory (createOrder, the reads, completeOrder, the supplier's calls). */
  invocationsPerOrder: { name: string; memoryMb: number; count: number }[];
  /** Average billed duration of one invocation (the handlers answer in tens of ms; cold starts and the NAT add). */
  averageDurationMs: number;
  dynamodbWritesPerOrder: number;
  dynamodbReadsPerOrder: number;
  /** Bytes through the car maker's NAT per order (token refresh amortised, the supplier POST and its answer). */
  natBytesPerOrder: number;
  /** Log bytes per API request (access log + WAF log) and per invocation (function log). */
  logBytesPerRequest: number;
  logBytesPerInvocation: number;
  /** Scheduled invocations and token requests a month whatever the traffic (refresher, retry job, fulfilment). */
  idleInvocationsPerMonth: { name: string; memoryMb: number; count: number }[];
  tokenRequestsPerMonth: number;
  secretReadsPerMonth: number;
}

export const HOURS_PER_MONTH = 730;

export interface CostLine {
  line: string;
  /** How the figure is made, e.g. "2 NAT gateways x 730 h x $0.045". */
  basis: string;
  usd: number;
}

export interface MonthlyCost {
  ordersPerMonth: number;
  lines: CostLine[];
  totalUsd: number;
}

export interface QuotaUse {
  quota: string;
  limit: number | null;
  unit: string;
  /** Use at 1x the declared peak, in the quota's unit. */
  usedAtPeak: number;
  /** The multiple of the peak at which the quota is reached (null: the quota is unknown). */
  saturatesAtMultiple: number | null;
  at: { multiple: number; used: number; percent: number | null }[];
  verified: boolean;
}

export interface CapacityReport {
  capacity: CapacityDeclaration;
  region: string;
  pricesDate: string;
  pricesNote: string;
  limits: TemplateLimits;
  requestPath: ChainCheck[];
  consistent: boolean;
  quotas: QuotaUse[];
  firstToSaturate: { quota: string; multiple: number } | null;
  costs: MonthlyCost[];
  assumptions: WorkloadAssumptions;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation properties are untyped JSON
type Props = Record<string, any>;

function resources(templates: TemplateJson[], type: string): Props[] {
  return templates.flatMap((template) =>
    Object.values(template.Resources ?? {})
      .filter((resource) => resource.Type === type)
      .map((resource) => (resource.Properties ?? {}) as Props),
  );
}

/** What the templates deploy that is billed by the hour or the month. */
export function billedResources(templates: TemplateJson[]) {
  const acls = resources(templates, 'AWS::WAFv2::WebACL');
  return {
    natGateways: resources(templates, 'AWS::EC2::NatGateway').length,
    publicIpv4: resources(templates, 'AWS::EC2::EIP').length,
    webAcls: acls.length,
    wafRules: acls.reduce((sum, acl) => sum + ((acl.Rules as unknown[] | undefined)?.length ?? 0), 0),
    m2mClients: resources(templates, 'AWS::Cognito::UserPoolClient').filter((client) =>
      ((client.AllowedOAuthFlows as string[] | undefined) ?? []).includes('client_credentials'),
    ).length,
    secrets: resources(templates, 'AWS::SecretsManager::Secret').length,
    kmsKeys: resources(templates, 'AWS::KMS::Key').length,
  };
}

const round2 = (usd: number) => Math.round(usd * 100) / 100;
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 6 });

function invocationCost(invocations: { memoryMb: number; count: number }[], durationMs: number) {
  const count = invocations.reduce((sum, i) => sum + i.count, 0);
  const gbSeconds = invocations.reduce((sum, i) => sum + i.count * (i.memoryMb / 1024) * (durationMs / 1000), 0);
  return { count, gbSeconds };
}

/** The lines billed whatever the traffic: hours, addresses, ACLs and rules, clients, secrets, keys. */
function fixedCostLines(billed: ReturnType<typeof billedResources>, p: PriceData['prices']): CostLine[] {
  const hourly = (line: string, count: number, price: number): CostLine => ({
    line,
    basis: `${count} x ${HOURS_PER_MONTH} h x $${price}`,
    usd: count * HOURS_PER_MONTH * price,
  });
  const monthly = (line: string, count: number, price: number): CostLine => ({
    line,
    basis: `${count} x $${price}`,
    usd: count * price,
  });
  return [
    hourly('NAT gateway hours', billed.natGateways, p.natGatewayHour.value),
    hourly('Public IPv4 addresses', billed.publicIpv4, p.publicIpv4Hour.value),
    monthly('WAF web ACLs', billed.webAcls, p.wafWebAclMonth.value),
    monthly('WAF rules', billed.wafRules, p.wafRuleMonth.value),
    monthly('Cognito M2M app clients', billed.m2mClients, p.cognitoM2mAppClientMonth.value),
    monthly('Secrets Manager secrets', billed.secrets, p.secretsManagerSecretMonth.value),
    monthly('KMS keys', billed.kmsKeys, p.kmsKeyMonth.value),
  ];
}

/** What a month of `n` orders uses of each billed quantity. */
function monthlyUsage(n: number, capacity: CapacityDeclaration, work: WorkloadAssumptions) {
  const carRequests = n * (2 + capacity.readsPerOrder); // POST, reads, the PATCH callback
  const tireRequests = n * SUPPLIER_CALLS_PER_ORDER;
  const requests = carRequests + tireRequests;
  const perOrder = invocationCost(work.invocationsPerOrder, work.averageDurationMs);
  const idle = invocationCost(work.idleInvocationsPerMonth, work.averageDurationMs);
  const invocations = n * perOrder.count + idle.count;
  const gbSeconds = n * perOrder.gbSeconds + idle.gbSeconds;
  const natGb = (n * work.natBytesPerOrder) / 1e9;
  const logGb = (requests * work.logBytesPerRequest + invocations * work.logBytesPerInvocation) / 1e9;
  const kmsRequests = invocations; // upper bound: a SecureString or secret decrypt per invocation (handlers cache)
  return { requests, invocations, gbSeconds, natGb, logGb, kmsRequests };
}

/** One stage's monthly list-price cost at `ordersPerMonth`, line by line. */
export function monthlyCost(
  ordersPerMonth: number,
  billed: ReturnType<typeof billedResources>,
  capacity: CapacityDeclaration,
  work: WorkloadAssumptions,
  p: PriceData['prices'] = AWS_PRICES.prices,
): MonthlyCost {
  const n = ordersPerMonth;
  const { requests, invocations, gbSeconds, natGb, logGb, kmsRequests } = monthlyUsage(n, capacity, work);
  const lines: CostLine[] = [
    ...fixedCostLines(billed, p),
    {
      line: 'NAT data processed',
      basis: `${fmt(natGb)} GB x $${p.natGatewayGb.value}`,
      usd: natGb * p.natGatewayGb.value,
    },
    {
      line: 'WAF requests',
      basis: `${fmt(requests / 1e6)} M x $${p.wafMillionRequests.value}`,
      usd: (requests / 1e6) * p.wafMillionRequests.value,
    },
    {
      line: 'Cognito M2M token requests',
      basis: `${fmt(work.tokenRequestsPerMonth)} x $${p.cognitoM2mThousandTokenRequests.value}/1,000`,
      usd: (work.tokenRequestsPerMonth / 1000) * p.cognitoM2mThousandTokenRequests.value,
    },
    {
      line: 'API Gateway REST requests',
      basis: `${fmt(requests / 1e6)} M x $${p.apiGatewayRestMillionRequests.value}`,
      usd: (requests / 1e6) * p.apiGatewayRestMillionRequests.value,
    },
    {
      line: 'Lambda requests',
      basis: `${fmt(invocations / 1e6)} M x $${p.lambdaMillionRequests.value}`,
      usd: (invocations / 1e6) * p.lambdaMillionRequests.value,
    },
    {
      line: 'Lambda duration',
      basis: `${fmt(Math.round(gbSeconds))} GB-s x $${p.lambdaGbSecond.value}`,
      usd: gbSeconds * p.lambdaGbSecond.value,
    },
    {
      line: 'DynamoDB on-demand writes',
      basis: `${fmt((n * work.dynamodbWritesPerOrder) / 1e6)} M WRU x $${p.dynamodbMillionWriteRequestUnits.value}`,
      usd: ((n * work.dynamodbWritesPerOrder) / 1e6) * p.dynamodbMillionWriteRequestUnits.value,
    },
    {
      line: 'DynamoDB on-demand reads',
      basis: `${fmt((n * work.dynamodbReadsPerOrder) / 1e6)} M RRU x $${p.dynamodbMillionReadRequestUnits.value}`,
      usd: ((n * work.dynamodbReadsPerOrder) / 1e6) * p.dynamodbMillionReadRequestUnits.value,
    },
    {
      line: 'EventBridge custom events',
      basis: `${fmt(n / 1e6)} M x $${p.eventBridgeMillionCustomEvents.value}`,
      usd: (n / 1e6) * p.eventBridgeMillionCustomEvents.value,
    },
    {
      line: 'API destination invocations',
      basis: `${fmt(n / 1e6)} M x $${p.eventBridgeMillionApiDestinationInvocations.value}`,
      usd: (n / 1e6) * p.eventBridgeMillionApiDestinationInvocations.value,
    },
    {
      line: 'Secrets Manager API calls',
      basis: `${fmt(work.secretReadsPerMonth)} x $${p.secretsManagerTenThousandCalls.value}/10,000`,
      usd: (work.secretReadsPerMonth / 10_000) * p.secretsManagerTenThousandCalls.value,
    },
    {
      line: 'KMS requests (upper bound)',
      basis: `${fmt(kmsRequests)} x $${p.kmsTenThousandRequests.value}/10,000`,
      usd: (kmsRequests / 10_000) * p.kmsTenThousandRequests.value,
    },
    {
      line: 'CloudWatch Logs ingestion',
      basis: `${fmt(logGb)} GB x $${p.cloudWatchLogsIngestedGb.value}`,
      usd: logGb * p.cloudWatchLogsIngestedGb.value,
    },
  ].map((line) => ({ ...line, usd: round2(line.usd) }));
  return { ordersPerMonth, lines, totalUsd: round2(lines.reduce((sum, line) => sum + line.usd, 0)) };
}

const MULTIPLES = [1, 10, 100];

function quotaUse(
  quota: string,
  entry: { value: number | null; unit: string; verified: boolean },
  usedAtPeak: number,
): QuotaUse {
  const limit = entry.value;
  return {
    quota,
    limit,
    unit: entry.unit,
    usedAtPeak: Math.round(usedAtPeak * 100) / 100,
    saturatesAtMultiple: limit === null || usedAtPeak === 0 ? null : Math.round((limit / usedAtPeak) * 10) / 10,
    at: MULTIPLES.map((multiple) => ({
      multiple,
      used: Math.round(usedAtPeak * multiple * 100) / 100,
      percent: limit === null ? null : Math.round(((usedAtPeak * multiple) / limit) * 1000) / 10,
    })),
    verified: entry.verified,
  };
}

/** The AWS default quotas the declared peak uses (both stacks in one account, the worst case for account quotas). */
export function quotaUses(capacity: CapacityDeclaration, work: WorkloadAssumptions, q = AWS_PRICES.quotas): QuotaUse[] {
  const peak = peakTraffic(capacity);
  const supplierRps = peak.supplierCallsPerPartnerPerSecond * capacity.supplierPartners;
  const apiRps = peak.customerRequestsPerSecond + peak.callbacksPerSecond + supplierRps;
  const invocationsPerOrder = work.invocationsPerOrder.reduce((sum, i) => sum + i.count, 0);
  // Little's law: concurrency = arrival rate x duration (the car maker's invocations; other partners' add theirs).
  const concurrency = capacity.peakOrdersPerSecond * invocationsPerOrder * (work.averageDurationMs / 1000);
  const tokenRps = 1; // token requests are per client and lifetime, not per order: a handful a minute
  return [
    quotaUse('API Gateway account RPS', q.apiGatewayAccountRps, apiRps),
    quotaUse('Lambda concurrency', q.lambdaConcurrency, concurrency),
    quotaUse('EventBridge PutEvents TPS', q.eventBridgePutEventsTps, peak.callbacksPerSecond),
    quotaUse('API destination invocation rate', q.apiDestinationInvocationRate, peak.callbacksPerSecond),
    quotaUse('Cognito client-credentials token RPS', q.cognitoClientCredentialsRps, tokenRps),
    quotaUse(
      'DynamoDB on-demand table WRU/s',
      q.dynamodbOnDemandTableRequestUnits,
      capacity.peakOrdersPerSecond * work.dynamodbWritesPerOrder,
    ),
  ];
}

export function capacityReport(input: {
  templates: { car: TemplateJson; tire: TemplateJson };
  capacity: CapacityDeclaration;
  assumptions: WorkloadAssumptions;
  ordersPerMonth?: number[];
}): CapacityReport {
  const { templates, capacity, assumptions } = input;
  const limits = limitsFromTemplates(templates);
  const requestPath = checkChain(limits, capacity);
  const quotas = quotaUses(capacity, assumptions);
  const known = quotas.filter((quota) => quota.saturatesAtMultiple !== null);
  const first = known.sort((a, b) => a.saturatesAtMultiple! - b.saturatesAtMultiple!)[0];
  const billed = billedResources([templates.car, templates.tire]);
  return {
    capacity,
    region: AWS_PRICES.region,
    pricesDate: AWS_PRICES.date,
    pricesNote: AWS_PRICES.about,
    limits,
    requestPath,
    consistent: requestPath.every((check) => check.ok),
    quotas: quotaUses(capacity, assumptions),
    firstToSaturate: first ? { quota: first.quota, multiple: first.saturatesAtMultiple! } : null,
    costs: (input.ordersPerMonth ?? [0, 100_000, 10_000_000]).map((n) => monthlyCost(n, billed, capacity, assumptions)),
    assumptions,
  };
}
