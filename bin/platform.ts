import { type App, CrossStackReferences, ReferenceStrength, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { z } from 'zod';
import { CarOrdersStack } from '../car-orders/stack.js';
import { assertStage, isIpv4Cidr, stackNames } from '../shared/constructs/index.js';
import { DEFAULT_FULFILMENT_DELAY_SECONDS, TireOrdersStack } from '../tire-orders/stack.js';
import { tireOrdersEvents } from '../tire-orders/service.js';

/**
 * The platform's configuration, all from CDK context (cdk.json or `-c key=value`). Context holds names, URLs and ids
 * only: every secret is referenced by its Secrets Manager name or ARN. The objects are strict, so a misplaced
 * `clientSecret` is rejected rather than silently written into a template.
 */

/** `-c key='{"a":1}'` arrives as a string, cdk.json values as JSON: accept both. */
function fromJsonString<T extends z.ZodType>(schema: T) {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\s*[[{]/.test(value) ? JSON.parse(value) : value),
    schema,
  );
}

const SecretName = z.string().regex(/^[\w/+=.@-]{1,512}$/, 'must be a Secrets Manager secret name');
const SecretArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/,
    'must be a Secrets Manager secret ARN',
  );
/** Base URLs get a trailing "/" so paths append the same way as to CDK's stage URLs. */
const BaseUrl = z.url({ protocol: /^https$/ }).transform((url) => (url.endsWith('/') ? url : `${url}/`));

export const SupplierContext = z.strictObject({
  apiUrl: BaseUrl,
  tokenUrl: z.url({ protocol: /^https$/ }),
  clientId: z.string().min(1),
  clientSecretName: SecretName,
  apiKeySecretName: SecretName.optional(),
});

export const CarMakerContext = z.strictObject({
  apiUrl: BaseUrl,
  tokenUrl: z.url({ protocol: /^https$/ }),
  clientId: z.string().min(1),
  clientSecretArn: SecretArn,
});

const Cidrs = z.preprocess(
  (value) =>
    typeof value === 'string' && !/^\s*\[/.test(value)
      ? value
          .split(',')
          .map((cidr) => cidr.trim())
          .filter(Boolean)
      : value,
  fromJsonString(z.array(z.string().refine(isIpv4Cidr, 'must be an IPv4 CIDR such as 203.0.113.10/32'))),
);

/** `-c flag=true` arrives as the string "true": accept it and real booleans, nothing else. */
const Flag = z.preprocess(
  (value) => (value === 'true' ? true : value === 'false' ? false : value),
  z.boolean({ error: 'must be true or false' }),
);

/** The widest partner CIDR accepted without `allowWideCidrs`: a /16 is 65,536 addresses, already a whole network. */
export const WIDEST_PARTNER_PREFIX = 16;

const prefixOf = (cidr: string): number => Number(cidr.split('/')[1]);

/** Context `alarmEmail`: where each stack's alarm topic sends (optional: without it the topic exists with no subscriber). */
const AlarmEmail = z.email({ error: 'must be an e-mail address' });

export const PlatformContext = z
  .object({
    stage: z.string().default('dev'),
    supplier: fromJsonString(SupplierContext).optional(),
    carMaker: fromJsonString(CarMakerContext).optional(),
    partnerCidrs: Cidrs.default([]),
    /** Lets partnerCidrs hold prefixes shorter than /16 (e.g. 0.0.0.0/0): an explicit, reviewable decision. */
    allowWideCidrs: Flag.default(false),
    alarmEmail: AlarmEmail.optional(),
    fulfilmentDelaySeconds: z.coerce.number().int().min(0).max(86_400).default(DEFAULT_FULFILMENT_DELAY_SECONDS),
    archiveRetentionDays: z.coerce
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(tireOrdersEvents.archive.defaultRetentionDays),
  })
  .superRefine((context, issues) => {
    if (context.allowWideCidrs) return;
    context.partnerCidrs.forEach((cidr, index) => {
      if (prefixOf(cidr) < WIDEST_PARTNER_PREFIX) {
        issues.addIssue({
          code: 'custom',
          path: ['partnerCidrs', index],
          message:
            `${cidr} allowlists ${2 ** (32 - prefixOf(cidr))} addresses; partner CIDRs may be at most ` +
            `/${WIDEST_PARTNER_PREFIX} wide unless context allowWideCidrs=true says this is intended`,
        });
      }
    });
  });
export type PlatformContext = z.infer<typeof PlatformContext>;

const CONTEXT_KEYS = [
  'stage',
  'supplier',
  'carMaker',
  'partnerCidrs',
  'allowWideCidrs',
  'alarmEmail',
  'fulfilmentDelaySeconds',
  'archiveRetentionDays',
] as const;

export function readPlatformContext(app: App): PlatformContext {
  const raw = Object.fromEntries(
    CONTEXT_KEYS.map((key) => [key, app.node.tryGetContext(key) as unknown]).filter(([, value]) => value !== undefined),
  );
  const parsed = PlatformContext.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`Invalid CDK context:\n${z.prettifyError(parsed.error)}`);
  }
  assertStage(parsed.data.stage);
  return parsed.data;
}

export interface Platform {
  context: PlatformContext;
  carOrders?: CarOrdersStack;
  tireOrders?: TireOrdersStack;
}

/**
 * Both companies in one app, stage-prefixed so stages deploy side by side. With neither partner outside the app:
 * TireOrdersStack takes the car maker's values by reference (so it deploys after CarOrdersStack), and the car maker
 * reads the supplier's connection parameter at run time (so there is no reference back). Context `supplier` builds
 * only the car maker (against that outside supplier); context `carMaker` builds only the supplier.
 */
export function buildPlatform(app: App, options: { nag?: boolean } = {}): Platform {
  const context = readPlatformContext(app);
  const { stage } = context;
  if (context.supplier && context.carMaker) {
    throw new Error('Context supplier and carMaker are both set: that leaves nothing of this app to deploy');
  }

  // Cross-stack values are Fn::ImportValue: CloudFormation refuses to delete or change the car maker's values
  // (e.g. a NAT Elastic IP) while the supplier's allowlist still uses them.
  CrossStackReferences.of(app).consume(ReferenceStrength.STRONG);

  const platform: Platform = { context };
  if (!context.carMaker) {
    platform.carOrders = new CarOrdersStack(app, stackNames.carOrders(stage), {
      stackName: stackNames.carOrders(stage),
      description: `Car maker: orders API, VPC with NAT Elastic IPs, supplier integration (${stage})`,
      stage,
      ...(context.supplier ? { supplier: context.supplier } : {}),
      ...(context.alarmEmail ? { alarmEmail: context.alarmEmail } : {}),
    });
  }
  if (!context.supplier) {
    const carMaker = platform.carOrders
      ? platform.carOrders.carMakerEndpoint
      : { ...(context.carMaker as z.infer<typeof CarMakerContext>), egressIps: [] };
    platform.tireOrders = new TireOrdersStack(app, stackNames.tireOrders(stage), {
      stackName: stackNames.tireOrders(stage),
      description: `Tire supplier: partner API, allowlist, completion callbacks (${stage})`,
      stage,
      carMaker,
      partnerCidrs: context.partnerCidrs,
      fulfilmentDelaySeconds: context.fulfilmentDelaySeconds,
      archiveRetentionDays: context.archiveRetentionDays,
      ...(context.alarmEmail ? { alarmEmail: context.alarmEmail } : {}),
    });
  }

  for (const stack of [platform.carOrders, platform.tireOrders]) {
    if (stack) {
      Tags.of(stack).add('project', 'b2b-order-integration');
      Tags.of(stack).add('stage', stage);
    }
  }
  if (options.nag ?? true) {
    // cdk-nag 3: a policy-validation plugin; any unacknowledged finding (error or warning) fails synthesis.
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  }
  return platform;
}
