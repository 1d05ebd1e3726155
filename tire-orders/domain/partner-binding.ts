import { addressInCidrs, type PartnerRecord } from '../../shared/partners.js';

/**
 * Partner binding: a tire-orders request is served only when the API key it carries and the address it comes from
 * both belong to the partner whose app client the token was issued to. The gateway has checked that the token is
 * valid and that the key is some partner's key in the usage plan, and the WAF and the resource policy that the
 * address is some partner's; only the partner record (shared/partners.ts) says whose.
 */

export interface RequestIdentity {
  /** The token's client_id (authorizer claims). */
  clientId: string;
  /** requestContext.identity.apiKeyId: the id of the API key the gateway matched (absent without a key). */
  apiKeyId: string | undefined;
  /** requestContext.identity.sourceIp. */
  sourceIp: string | undefined;
}

export const BINDING_CHECKS = ['partner-record', 'partner-revoked', 'api-key', 'source-address'] as const;
export type BindingCheck = (typeof BINDING_CHECKS)[number];

export interface BindingRefusal {
  check: BindingCheck;
  /** Safe to return to the caller: it names the caller's own client only, never another partner. */
  detail: string;
}

/** Why the request may not be served, or undefined when it may. `record` is the caller's record, if it has one. */
export function bindingRefusal(
  record: PartnerRecord | undefined,
  request: RequestIdentity,
  now: number = Date.now(),
): BindingRefusal | undefined {
  const client = `client ${request.clientId}`;
  if (record === undefined || record.clientId !== request.clientId) {
    return { check: 'partner-record', detail: `No partner record for ${client}` };
  }
  if (record.revokedAt !== undefined) {
    return { check: 'partner-revoked', detail: `The partner of ${client} was revoked` };
  }
  if (request.apiKeyId === undefined || !record.apiKeyIds.includes(request.apiKeyId)) {
    return { check: 'api-key', detail: `The API key is not one of ${client}'s keys` };
  }
  const deadline = record.apiKeyDeadlines?.[request.apiKeyId];
  if (deadline !== undefined && Date.parse(deadline) <= now) {
    return { check: 'api-key', detail: `The API key of ${client} was rotated out at ${deadline}` };
  }
  if (request.sourceIp === undefined || !addressInCidrs(request.sourceIp, record.cidrs)) {
    return { check: 'source-address', detail: `The source address is not one of ${client}'s addresses` };
  }
  return undefined;
}
