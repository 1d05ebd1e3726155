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
  /** The car maker's egress (its "NAT Elastic IP"): its Lambdas' outbound calls leave from here. */
  carEgressAddress: '127.0.0.2',
  /** The supplier's EventBridge egress: API destination deliveries leave from here. */
  supplierEventsEgressAddress: '127.0.0.3',
  stateDir: '.local',
} as const;
