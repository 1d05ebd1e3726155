import { DEFAULT_CAPACITY, LOAD_TEST_CAPACITY, type CapacityDeclaration } from '../shared/capacity.js';

/**
 * Fixed, documented defaults for the local runtime. Every port can be changed by flag or environment variable
 * (see local/main.ts); tests pass 0 to get ephemeral ports.
 */
export const LOCAL_DEFAULTS = {
  host: '127.0.0.1',
  ports: {
    aws: 4510,
    carApi: 4511,
    tireApi: 4512,
    carAuth: 4513,
    tireAuth: 4514,
  },
  /** The operator console (not in `ports`: tests leave it ephemeral without naming it). */
  consolePort: 4515,
  /** The car maker's egress (its "NAT Elastic IP"): its Lambdas' outbound calls leave from here. */
  carEgressAddress: '127.0.0.2',
  /** The supplier's EventBridge egress: API destination deliveries leave from here. */
  supplierEventsEgressAddress: '127.0.0.3',
  stateDir: '.local',
} as const;

/**
 * The capacity the runtime derives its limits from: the declarations' default, or the load-test profile
 * (`--load-test`, B2B_LOAD_TEST=1). `summary` is what the ready line says.
 */
export function capacityProfile(loadTest: boolean): { capacity?: CapacityDeclaration; summary: string } {
  const describe = (capacity: CapacityDeclaration) =>
    `${capacity.name}(peak=${capacity.peakOrdersPerSecond}orders/s,quota=` +
    `${capacity.ordersPerDay === undefined ? 'none' : 'daily'})`;
  return loadTest
    ? { capacity: LOAD_TEST_CAPACITY, summary: describe(LOAD_TEST_CAPACITY) }
    : { summary: describe(DEFAULT_CAPACITY) };
}
