import { BlockList, isIP } from 'node:net';
import * as z from './zod.js';

/**
 * The supplier's record of one partner: which API keys and source addresses belong to the app client (token
 * `client_id`) it issued to that partner. One SSM String parameter per client, under one path per stage
 * (shared/names.ts partnerResourceNames). The tire stack writes the car maker's record, the operator CLI the records
 * of the partners it onboards; the tire-orders handlers read them to serve a request only when its API key and its
 * source address both belong to the caller (tire-orders/domain/partner-binding.ts). The WAF IP set and the
 * resource policy hold the union of every partner's CIDRs; this record is the per-partner layer behind them.
 */

/** An IPv4 or IPv6 CIDR (address/prefix), in the form WAF IP sets and resource policies take. */
export const Cidr = z
  .string()
  .check(z.refine((text) => parseCidr(text) !== undefined, 'must be a CIDR such as 203.0.113.10/32'));

function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  const version = isIP(match[1]!);
  const prefix = Number(match[2]);
  if (version === 0 || prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address: match[1]!, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Who keeps the record: the stack (re-written on every deploy) or the operator CLI (onboard, rotate, revoke). */
export const PARTNER_RECORD_MANAGERS = ['stack', 'cli'] as const;

const PartnerRecordFields = z.object({
  /** The partner's name (for operators; CLI partners also name their secrets with it). */
  name: z.string().check(z.minLength(1)),
  /** The tire-orders app client the partner's tokens are issued to: the record's key. */
  clientId: z.string().check(z.minLength(1)),
  /**
   * The API Gateway API key ids the partner may call with. A list, so that a key rotation adds the new key before
   * removing the old one, and both are served in between.
   */
  apiKeyIds: z.array(z.string().check(z.minLength(1))),
  /**
   * Keys being rotated out: served only until this instant (ISO), whoever forgets to finish the rotation. The
   * handlers compare each request with it, so the deadline holds even while the key is still in the usage plan.
   */
  apiKeyDeadlines: z.optional(z.record(z.string().check(z.minLength(1)), z.iso.datetime())),
  /** The source addresses the partner calls from. */
  cidrs: z.array(Cidr),
  /** The OAuth scopes its app client may request. */
  scopes: z.array(z.string()),
  managedBy: z.enum(PARTNER_RECORD_MANAGERS),
  /** When the partner was onboarded; absent on the stack's record (a deploy-time value would change every synth). */
  createdAt: z.optional(z.iso.datetime()),
  /** Set when the partner was cut off: no request of its client is served any more. */
  revokedAt: z.optional(z.iso.datetime()),
  // What the CLI keeps to rotate and revoke an onboarded partner (never a secret's value).
  userPoolId: z.optional(z.string()),
  usagePlanId: z.optional(z.string()),
  /** The CIDRs this onboarding added to the allowlist (the others were already on it); revocation removes only these. */
  addedCidrs: z.optional(z.array(z.string())),
  clientSecretName: z.optional(z.string()),
  apiKeySecretName: z.optional(z.string()),
  rotation: z.optional(
    z.object({
      previousSecretId: z.string(),
      currentSecretId: z.string(),
      rotatedAt: z.string(),
      previousAcceptedUntil: z.string(),
    }),
  ),
  lastRotatedAt: z.optional(z.string()),
});

/**
 * Records the CLI wrote before this schema (one `apiKeyId`, `onboardedAt`, no `managedBy`) read as what they mean,
 * so that partners onboarded earlier keep being served.
 */
function upgradeEarlierRecord(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const { apiKeyId, onboardedAt, ...record } = value as Record<string, unknown>;
  if (record.apiKeyIds === undefined && typeof apiKeyId === 'string') record.apiKeyIds = [apiKeyId];
  if (record.createdAt === undefined && typeof onboardedAt === 'string') record.createdAt = onboardedAt;
  if (record.managedBy === undefined) record.managedBy = 'cli';
  return record;
}

export const PartnerRecord = z.pipe(z.transform(upgradeEarlierRecord), PartnerRecordFields);
export type PartnerRecord = z.infer<typeof PartnerRecordFields>;

/** A parameter's JSON text read with a schema; the reason when it is not JSON or not valid. */
function parseJsonParameter<T>(schema: z.ZodMiniType<T>, text: string | undefined): { value: T } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    return { problem: 'not JSON' };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { problem: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` };
  }
  return { value: parsed.data };
}

/** Parses a record's JSON text; undefined (with the reason) when it is not a valid record. */
export function parsePartnerRecord(text: string | undefined): { record: PartnerRecord } | { problem: string } {
  const parsed = parseJsonParameter(PartnerRecord, text);
  return 'problem' in parsed ? parsed : { record: parsed.value };
}

/**
 * The API keys a supplier API key rotation bound for a record the stack writes (shared/names.ts
 * partnerKeyBindingName). The stack's record keeps its client, CIDRs and scopes; once a rotation has run, which keys
 * are served (and until when) is this binding's, so a deploy that rewrites the record cannot bind the stack's
 * original key alone again.
 */
export const PartnerKeyBinding = z.object({
  apiKeyIds: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  apiKeyDeadlines: z.optional(z.record(z.string().check(z.minLength(1)), z.iso.datetime())),
});
export type PartnerKeyBinding = z.infer<typeof PartnerKeyBinding>;

export function parsePartnerKeyBinding(text: string | undefined): { binding: PartnerKeyBinding } | { problem: string } {
  const parsed = parseJsonParameter(PartnerKeyBinding, text);
  return 'problem' in parsed ? parsed : { binding: parsed.value };
}

/** The record as served: a key binding, when there is one, replaces the record's keys and their deadlines. */
export function withKeyBinding(record: PartnerRecord, binding: PartnerKeyBinding | undefined): PartnerRecord {
  if (!binding) return record;
  const { apiKeyDeadlines: _stackDeadlines, ...rest } = record;
  return {
    ...rest,
    apiKeyIds: binding.apiKeyIds,
    ...(binding.apiKeyDeadlines ? { apiKeyDeadlines: binding.apiKeyDeadlines } : {}),
  };
}

/** Whether `address` lies in one of `cidrs` (an address of the other IP family never does). */
export function addressInCidrs(address: string, cidrs: readonly string[]): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const blocks = new BlockList();
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr);
    if (parsed) blocks.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return blocks.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
