import { carOrdersService } from '../car-orders/service.js';
import { deriveLimits, type CapacityDeclaration } from '../shared/capacity.js';
import { tireOrdersEvents, tireOrdersService } from '../tire-orders/service.js';
import type { CompanyService } from './company.js';

/**
 * The two declarations with every limit derived from another capacity declaration (the load-test profile): stage
 * throttles, WAF rate rules, the usage plan (no quota when no daily volume is declared) and the callback rate.
 * Everything else (routes, scopes, the allowlist, the rate rule's 429) is the declarations' own.
 */
export interface ServicesAtCapacity {
  car: CompanyService;
  tire: CompanyService;
  callbackRatePerSecond: number;
}

export function servicesAt(capacity: CapacityDeclaration | undefined): ServicesAtCapacity {
  if (!capacity) {
    return {
      car: carOrdersService,
      tire: tireOrdersService,
      callbackRatePerSecond: tireOrdersEvents.completionCallback.invocationRateLimitPerSecond,
    };
  }
  const limits = deriveLimits(capacity);
  const { quota: _declaredQuota, ...planWithoutQuota } = tireOrdersService.usagePlan;
  return {
    car: { ...carOrdersService, ...limits.car },
    tire: {
      ...tireOrdersService,
      ...limits.tire,
      usagePlan: {
        ...planWithoutQuota,
        throttle: limits.tire.usagePlan.throttle,
        ...(limits.tire.usagePlan.quota ? { quota: limits.tire.usagePlan.quota } : {}),
      },
    },
    callbackRatePerSecond: limits.completionCallback.invocationRateLimitPerSecond,
  };
}
