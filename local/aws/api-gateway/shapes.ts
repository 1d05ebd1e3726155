import type { ApiKeySummary } from '../../gateway/api-keys.js';
import { epochSeconds } from '../protocol.js';
import type { LocalRestApiDeclaration, LocalUsagePlanDeclaration, StoredDeployment, StoredRestApi } from './store.js';

/** API Gateway's output shapes: RestApi, Stage, Deployment, ApiKey, UsagePlan and UsagePlanKey. */

export interface RestApiState {
  declaration: LocalRestApiDeclaration;
  stored: StoredRestApi;
}

/**
 * API Gateway returns the policy string JSON-escaped a second time: the value carries \" for quotes and \/ for
 * slashes (a known quirk every client of GetRestApi unescapes once more).
 */
export function escapePolicy(policy: string): string {
  return policy.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\//g, '\\/');
}

/** The inverse of escapePolicy: the policy document text as it was stored. */
export function unescapePolicy(escaped: string): string {
  return JSON.parse(`"${escaped}"`) as string;
}

export function restApiOf({ declaration, stored }: RestApiState) {
  return {
    id: declaration.apiId,
    name: stored.name,
    description: stored.description,
    createdDate: epochSeconds(stored.createdDate),
    apiKeySource: 'HEADER',
    endpointConfiguration: { types: ['REGIONAL'], ipAddressType: 'ipv4' },
    ...(stored.policy !== undefined ? { policy: escapePolicy(stored.policy) } : {}),
    disableExecuteApiEndpoint: false,
    tags: {},
  };
}

export function stageOf({ declaration, stored }: RestApiState) {
  return {
    deploymentId: stored.stage.deploymentId,
    stageName: declaration.stage,
    cacheClusterEnabled: false,
    cacheClusterStatus: 'NOT_AVAILABLE',
    methodSettings: {
      '*/*': {
        metricsEnabled: true,
        loggingLevel: 'INFO',
        dataTraceEnabled: false,
        throttlingBurstLimit: declaration.stageThrottle.burstLimit,
        throttlingRateLimit: declaration.stageThrottle.rateLimit,
        cachingEnabled: false,
        cacheTtlInSeconds: 300,
        cacheDataEncrypted: false,
        requireAuthorizationForCacheControl: true,
        unauthorizedCacheControlHeaderStrategy: 'SUCCEED_WITH_RESPONSE_HEADER',
      },
    },
    tracingEnabled: true,
    ...(declaration.webAclArn !== undefined ? { webAclArn: declaration.webAclArn } : {}),
    createdDate: epochSeconds(stored.stage.createdDate),
    lastUpdatedDate: epochSeconds(stored.stage.lastUpdatedDate),
  };
}

export function deploymentOf(deployment: StoredDeployment) {
  return {
    id: deployment.id,
    ...(deployment.description !== undefined ? { description: deployment.description } : {}),
    createdDate: epochSeconds(deployment.createdDate),
  };
}

/** An ApiKey; `value` only when asked for (includeValue) and known. */
export function apiKeyOf(key: ApiKeySummary, value: string | undefined) {
  return {
    id: key.id,
    ...(value !== undefined ? { value } : {}),
    name: key.name,
    ...(key.customerId !== undefined ? { customerId: key.customerId } : {}),
    ...(key.description !== undefined ? { description: key.description } : {}),
    enabled: key.enabled,
    createdDate: epochSeconds(Date.parse(key.createdAt)),
    lastUpdatedDate: epochSeconds(Date.parse(key.updatedAt ?? key.createdAt)),
    stageKeys: [],
    tags: {},
  };
}

export function usagePlanOf(plan: LocalUsagePlanDeclaration) {
  return {
    id: plan.id,
    name: plan.name,
    description: plan.description,
    apiStages: plan.apiStages.map((stage) => ({ apiId: stage.apiId, stage: stage.stage })),
    ...(plan.throttle
      ? { throttle: { burstLimit: plan.throttle.burstLimit, rateLimit: plan.throttle.rateLimit } }
      : {}),
    ...(plan.quota ? { quota: { limit: plan.quota.limit, offset: 0, period: plan.quota.period } } : {}),
    tags: {},
  };
}

export function usagePlanKeyOf(key: ApiKeySummary) {
  return { id: key.id, type: 'API_KEY', name: key.name };
}
