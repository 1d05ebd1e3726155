import { describe, expect, it } from 'vitest';
import { carOrdersEnvironment, carOrdersService, ratePeriodMs, TOKEN_REFRESH_PERIOD_MS } from '../../service.js';

describe('ratePeriodMs', () => {
  it('reads EventBridge rate expressions', () => {
    expect(ratePeriodMs('rate(1 minute)')).toBe(60_000);
    expect(ratePeriodMs('rate(5 minutes)')).toBe(300_000);
    expect(ratePeriodMs('rate(1 hour)')).toBe(3_600_000);
    expect(ratePeriodMs('rate(2 days)')).toBe(2 * 86_400_000);
  });

  it.each([
    'cron(0/5 * * * ? *)',
    'rate(0 minutes)',
    'rate(5 minute)',
    'rate(1 minutes)',
    'rate(5 seconds)',
    'rate(-5 minutes)',
    'rate(5minutes)',
  ])('refuses %s', (expression) => {
    expect(() => ratePeriodMs(expression)).toThrow(expression);
  });
});

describe('TOKEN_REFRESH_PERIOD_MS', () => {
  it('is the period of the declared RefreshSupplierToken schedule, and is what the refresher is told', () => {
    const schedule = carOrdersService.schedules.find((s) => s.name === 'RefreshSupplierToken');
    expect(schedule?.function).toBe('refreshSupplierToken');
    expect(TOKEN_REFRESH_PERIOD_MS).toBe(ratePeriodMs(schedule!.expression));
    const env = carOrdersEnvironment({
      ordersTableName: 't',
      idempotencyTableName: 'i',
      supplierConnectionParameter: 'c',
      supplierTokenParameter: 'p',
      supplierTokenKeyId: 'k',
    });
    expect(env.TOKEN_REFRESH_PERIOD_MS).toBe(String(TOKEN_REFRESH_PERIOD_MS));
  });
});
