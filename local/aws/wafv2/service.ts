import type { AwsJsonService } from '../protocol.js';
import { operation } from '../schema.js';
import { inputError, type LocalWaf } from './provider.js';
import * as input from './schemas.js';

export const WAFV2_TARGET_PREFIX = 'AWSWAF_20190729';

/**
 * AWS WAFv2 (AWS JSON 1.1, `X-Amz-Target: AWSWAF_20190729.<Operation>`) over the local gateways' web ACLs, so the
 * operator CLI reads and changes the partner IP set with the real WAFV2Client as on AWS. Every input is checked
 * against its schema (schemas.ts) first: a mistyped member is a SerializationException, a missing or over-long one a
 * WAFInvalidParameterException.
 *
 * Deliberate differences: only the REGIONAL scope has resources (CLOUDFRONT lists nothing); web ACLs are read-only
 * and list only the rules the local WAF enforces (the rate-based rule and the IP-set allow rule; the stack's AWS
 * managed rule groups are not emulated); the change applies at once (AWS WAF propagates within seconds).
 */
export function createWafService(waf: LocalWaf): AwsJsonService {
  return {
    targetPrefix: WAFV2_TARGET_PREFIX,
    jsonVersion: '1.1',
    operations: {
      ListIPSets: operation(input.ListInput, inputError, (request) => waf.listIpSets(request)),
      GetIPSet: operation(input.GetIpSetInput, inputError, (request) => waf.getIpSet(request)),
      UpdateIPSet: operation(input.UpdateIpSetInput, inputError, (request) => waf.updateIpSet(request)),
      ListWebACLs: operation(input.ListInput, inputError, (request) => waf.listWebAcls(request)),
      GetWebACL: operation(input.GetWebAclInput, inputError, (request) => waf.getWebAcl(request)),
    },
  };
}
