import * as z from '../../shared/zod.js';

/** The environment carOrdersEnvironment (service.ts) binds to every car-orders function, validated at cold start. */
const CarOrdersEnvironment = z.object({
  ORDERS_TABLE_NAME: z.string().check(z.minLength(1)),
  IDEMPOTENCY_TABLE_NAME: z.string().check(z.minLength(1)),
  SUPPLIER_CONNECTION_PARAMETER: z.string().check(z.minLength(1)),
  SUPPLIER_TOKEN_PARAMETER: z.string().check(z.minLength(1)),
  SUPPLIER_TOKEN_KEY_ID: z.string().check(z.minLength(1)),
  SUPPLIER_SCOPE: z.string().check(z.minLength(1)),
  TOKEN_REFRESH_PERIOD_MS: z.coerce.number().check(z.int(), z.positive()),
  SUPPLIER_TIMEOUT_MS: z.coerce.number().check(z.int(), z.positive()),
  PENDING_GRACE_SECONDS: z.coerce.number().check(z.int(), z.nonnegative()),
});
export type CarOrdersEnvironment = z.infer<typeof CarOrdersEnvironment>;
type CarOrdersVariable = keyof CarOrdersEnvironment;

/**
 * Reads the variables a function needs (and only those), failing the cold start with the names of the missing or
 * malformed ones rather than failing later on a request.
 */
export function readEnvironment<K extends CarOrdersVariable>(
  names: readonly K[],
  env: NodeJS.ProcessEnv = process.env,
): Pick<CarOrdersEnvironment, K> {
  const mask = Object.fromEntries(names.map((name) => [name, true])) as Partial<Record<CarOrdersVariable, true>>;
  const result = z.pick(CarOrdersEnvironment, mask as Record<CarOrdersVariable, true>).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`car-orders environment is incomplete: ${problems}`);
  }
  return result.data as unknown as Pick<CarOrdersEnvironment, K>;
}
