export {
  API_GATEWAY_INTEGRATION_TIMEOUT_MS,
  API_GATEWAY_MAX_REQUEST_BYTES,
  apiIdOf,
  startApiGateway,
  type ApiGatewayOptions,
  type ApiKeyLookup,
  type AuditSink,
  type GatewayServiceDeclaration,
  type InvokeFunction,
  type RequestDecider,
  type ResourcePolicyConfig,
  type RunningApiGateway,
  type UsagePlanConfig,
  type WafConfig,
} from './api-gateway.js';
export { ApiKeyRegistry, type ApiKeyIdentity, type ApiKeyRecord, type ApiKeySummary } from './api-keys.js';
export {
  CognitoAuthorizer,
  claimsForEvent,
  tokenFromHeader,
  type AccessTokenClaims,
  type AuthorizerConfig,
  type VerifyAccessToken,
} from './authorizer.js';
export { CidrSet, normalizeAddress, parseCidr } from './cidr.js';
export { ReplaceableCidrSet, rebaseList, sameMembers, type AddressMatcher } from './allowlist.js';
export {
  mapSourceIpLists,
  partnerAllowlistPolicy,
  PolicyDocumentError,
  ResourcePolicy,
  type PolicyContext,
  type PolicyDecision,
  type PolicyDocument,
  type PolicyStatement,
} from './resource-policy.js';
export {
  customisedGatewayResponse,
  localGatewayResponses,
  GATEWAY_RESPONSES,
  gatewayResponse,
  type GatewayResponseCustomisation,
  type GatewayResponseCustomisations,
  type GatewayResponseType,
} from './gateway-responses.js';
export { KeyedTokenBuckets, QuotaCounter, SlidingWindowRateRule, TokenBucket, quotaPeriodStart } from './limits.js';
export type { QuotaDeclaration, QuotaPeriod } from './limits.js';
export { buildProxyEvent, mapProxyResult, type LambdaError } from './proxy-integration.js';
export { RouteTable, type RouteMatch } from './routes.js';
