import { describe, expect, it } from 'vitest';
import { carOrdersService } from '../../car-orders/service.js';
import { DEFAULT_CAPACITY, deriveLimits, LOAD_TEST_CAPACITY } from '../../shared/capacity.js';
import { tireOrdersEvents, tireOrdersService } from '../../tire-orders/service.js';
import { servicesAt } from '../capacity.js';
import { capacityProfile } from '../config.js';

/** The load-test profile: every limit from LOAD_TEST_CAPACITY, everything else the declarations' own. */
describe('servicesAt', () => {
  it("without a capacity is the declarations themselves (the stacks' numbers)", () => {
    const services = servicesAt(undefined);
    expect(services.car).toBe(carOrdersService);
    expect(services.tire).toBe(tireOrdersService);
    expect(services.callbackRatePerSecond).toBe(tireOrdersEvents.completionCallback.invocationRateLimitPerSecond);
    expect(deriveLimits(DEFAULT_CAPACITY).car.stageThrottle).toEqual(carOrdersService.stageThrottle);
  });

  it('with the load-test capacity: >= 10,000 req/s at every gateway limit, no quota, and every other declaration unchanged', () => {
    const { car, tire, callbackRatePerSecond } = servicesAt(LOAD_TEST_CAPACITY);
    expect(car.stageThrottle.rateLimit).toBeGreaterThanOrEqual(10_000);
    expect(tire.stageThrottle.rateLimit).toBeGreaterThanOrEqual(10_000);
    expect(tire.usagePlan!.throttle.rateLimit).toBeGreaterThanOrEqual(10_000);
    expect(car.wafRateLimitPer5Minutes).toBeGreaterThanOrEqual(10_000 * 300);
    expect(tire.usagePlan!.quota).toBeUndefined();
    // An API destination's highest rate (CreateApiDestination accepts 1-300).
    expect(callbackRatePerSecond).toBe(300);
    // Every other enforcement is the declaration's: routes and scopes, firewall and allowlist, the 429, token life.
    const { stageThrottle: _a, wafRateLimitPer5Minutes: _b, ...carRest } = car;
    const { stageThrottle: _c, wafRateLimitPer5Minutes: _d, ...carDeclared } = carOrdersService;
    expect(carRest).toEqual(carDeclared);
    expect(tire.firewall).toEqual(tireOrdersService.firewall);
    expect(tire.routes).toBe(tireOrdersService.routes);
    expect(tire.usagePlan!.description).toBe(tireOrdersService.usagePlan.description);
  });

  it('the ready line names the profile', () => {
    expect(capacityProfile(false)).toEqual({ summary: 'default(peak=10orders/s,quota=daily)' });
    expect(capacityProfile(true)).toEqual({
      capacity: LOAD_TEST_CAPACITY,
      summary: 'load-test(peak=10000orders/s,quota=none)',
    });
  });
});
