import * as z from '../../shared/zod.js';

/**
 * The service's configuration, read from the environment variables tireOrdersEnvironment() (service.ts) sets on
 * every tire-orders function. A missing or malformed value fails the cold start with a clear message instead of
 * the first request failing somewhere deeper.
 */
const TireOrdersEnvironment = z.object({
  TIRE_ORDERS_TABLE_NAME: z.string().check(z.minLength(1)),
  EVENT_BUS_NAME: z.string().check(z.minLength(1)),
  EVENT_SOURCE: z.string().check(z.minLength(1)),
  PARTNER_RECORD_PATH: z.string().check(z.regex(/^\/[\w./-]*\/$/, 'must be an SSM path ending in /')),
  FULFILMENT_DELAY_SECONDS: z.pipe(
    z.string().check(z.regex(/^\d{1,9}$/, 'must be a whole number of seconds')),
    z.transform(Number),
  ),
});

interface TireOrdersConfig {
  tableName: string;
  eventBusName: string;
  eventSource: string;
  fulfilmentDelaySeconds: number;
  /** The SSM path of the partner records (shared/partners.ts). */
  partnerRecordPath: string;
}

export function loadTireOrdersConfig(env: NodeJS.ProcessEnv = process.env): TireOrdersConfig {
  const result = TireOrdersEnvironment.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`tire-orders configuration is invalid: ${problems}`);
  }
  return {
    tableName: result.data.TIRE_ORDERS_TABLE_NAME,
    eventBusName: result.data.EVENT_BUS_NAME,
    eventSource: result.data.EVENT_SOURCE,
    fulfilmentDelaySeconds: result.data.FULFILMENT_DELAY_SECONDS,
    partnerRecordPath: result.data.PARTNER_RECORD_PATH,
  };
}
