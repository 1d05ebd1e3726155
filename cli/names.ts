import { carOrdersService } from '../car-orders/service.js';
import { apiName, partnerAllowlistName, partnerUsagePlanName, stackNames } from '../shared/names.js';
import { tireOrdersEvents, tireOrdersService } from '../tire-orders/service.js';

/**
 * The names the CLI looks resources up by, derived from the stage exactly as the stacks name them (CarOrdersStack:
 * apiName `${stage}-car-orders`; TireOrdersStack: apiName `${stage}-tire-orders`, usage plan and WAF IP set
 * `${stage}-tire-orders-partners`, user pools `${stage}-${service}`), and as the local runtime names the same
 * resources. Names the CLI itself creates (partner records and secrets) are defined here too.
 */
export function stageNames(stage: string) {
  return {
    carOrdersStack: stackNames.carOrders(stage),
    tireOrdersStack: stackNames.tireOrders(stage),
    carApi: apiName(stage, carOrdersService),
    tireApi: apiName(stage, tireOrdersService),
    partnerUsagePlan: partnerUsagePlanName(stage),
    partnerIpSet: partnerAllowlistName(stage),
    carUserPool: `${stage}-${carOrdersService.name}`,
    tireUserPool: `${stage}-${tireOrdersService.name}`,
    /** The declared rule name; the local runtime prefixes it with the stage, the stack uses it as is. */
    callbackRule: tireOrdersEvents.completionCallback.ruleName,
    /** SSM String parameters, one per onboarded partner app client: the partner's record (ids, CIDRs, rotation). */
    partnerRecordPath: `/${stage}/${tireOrdersService.name}/partners/`,
    partnerRecord: (clientId: string) => `/${stage}/${tireOrdersService.name}/partners/${clientId}`,
    partnerClientSecret: (partner: string) => `${stage}/${tireOrdersService.name}/partners/${partner}/client-secret`,
    partnerApiKeySecret: (partner: string) => `${stage}/${tireOrdersService.name}/partners/${partner}/api-key`,
    partnerApiKey: (partner: string) => `${stage}-partner-${partner}`,
  };
}

export type StageNames = ReturnType<typeof stageNames>;
