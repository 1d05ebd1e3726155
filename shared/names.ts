/**
 * Every physical name of the platform, as a function of the stage: both stacks, the local runtime and the CLI read
 * them here (platformNames below), so a name is written once and the local runtime names each resource as the stack
 * does. No CDK import here, so the runtime and the CLI can use them without loading aws-cdk-lib.
 *
 * Some resources the stacks leave to CloudFormation to name (cfnNamedResources): the DynamoDB tables, the archive,
 * the API destination, the connection, the dead-letter queue, the car maker's own client secrets. They keep their
 * generated names on AWS; giving one a name now would REPLACE it (a retained table would be orphaned with every
 * acknowledged order in it), which test/deploy-identity.test.ts refuses. Locally they get the readable names below;
 * the CLI finds them on AWS from stack outputs and resource lists, never from these names.
 */

/** A stage is part of stack names, Cognito domain prefixes and resource names: keep it short, lowercase and DNS-safe. */
export const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/**
 * Words the services reserve in the names a stage is written into: a Cognito domain prefix
 * (`${stage}-${service}-${account}`) may not contain `aws`, `amazon` or `cognito`; a KMS alias
 * (`alias/${stage}/...`) may not begin with `alias/aws/`; an SSM parameter name (`/${stage}/...`) may not begin with
 * `aws` or `ssm`. (Stack, API, pool, bus, rule, secret and log group names reserve nothing a stage could hit.)
 */
const STAGE_RESERVED: { test: (stage: string) => boolean; why: string }[] = [
  {
    test: (stage) => /aws|amazon|cognito/.test(stage),
    why: 'a Cognito domain prefix may not contain aws, amazon or cognito',
  },
  { test: (stage) => /^ssm/.test(stage), why: 'an SSM parameter name may not begin with ssm (or aws)' },
];

export function assertStage(stage: string): string {
  if (!STAGE_PATTERN.test(stage)) {
    throw new Error(`stage "${stage}" must match ${STAGE_PATTERN} (lowercase letters, digits and hyphens, at most 20)`);
  }
  const reserved = STAGE_RESERVED.find((rule) => rule.test(stage));
  if (reserved) throw new Error(`stage "${stage}" uses a reserved word: ${reserved.why}`);
  return stage;
}

export const stackNames = {
  carOrders: (stage: string) => `${stage}-CarOrders`,
  tireOrders: (stage: string) => `${stage}-TireOrders`,
};

/** SSM String parameter (PartnerConnection JSON) that the tire supplier's stack writes for the car maker. */
export function supplierConnectionParameterName(stage: string): string {
  return `/${stage}/tire-orders/connection`;
}

/** SSM String parameter the car maker's stack writes itself when its supplier is outside this app. */
export function externalSupplierConnectionParameterName(stage: string): string {
  return `/${stage}/car-orders/supplier-connection`;
}

/** SSM SecureString parameter holding the car maker's current access token for the supplier API. */
export function supplierTokenParameterName(stage: string): string {
  return `/${stage}/car-orders/supplier-token`;
}

/** Secrets Manager names of the credentials the supplier issues to the car maker. */
export function carMakerCredentialSecretNames(stage: string): { clientSecret: string; apiKey: string } {
  return {
    clientSecret: `${stage}/tire-orders/car-maker/client-secret`,
    apiKey: `${stage}/tire-orders/car-maker/api-key`,
  };
}

/** REST API (and web ACL) name of a company's API. */
export function apiName(stage: string, service: { name: string }): string {
  return `${stage}-${service.name}`;
}

/** The supplier's partner usage plan and WAF IP set share this name. */
export function partnerAllowlistName(stage: string): string {
  return `${stage}-tire-orders-partners`;
}

export function partnerUsagePlanName(stage: string): string {
  return `${stage}-tire-orders-partners`;
}

/** The supplier's event bus. */
export function supplierEventBusName(stage: string): string {
  return `${stage}-tire-orders`;
}

/**
 * EventBridge Scheduler group of the car maker's rotation deadlines: `b2b rotate callback-client` creates a one-time
 * schedule in it that deletes the old client secret at the deadline (the execution role trusts this group only).
 */
export function rotationScheduleGroupName(stage: string): string {
  return `${stage}-car-orders-rotations`;
}

/** Log group a web ACL logs to: WAF only delivers to groups whose name starts with aws-waf-logs-. */
export function wafLogGroupName(webAclName: string): string {
  return `aws-waf-logs-${webAclName}`;
}

/** The completion-callback rule on the supplier's (stage-named) bus: the same name in every stage. */
export const COMPLETION_CALLBACK_RULE_NAME = 'TireOrderCompletedToCarMaker';

/** The names the stacks give their resources (physical name properties), derived from the stage. */
export function stackNamedResources(stage: string) {
  const credentials = carMakerCredentialSecretNames(stage);
  const carApi = apiName(stage, { name: 'car-orders' });
  const tireApi = apiName(stage, { name: 'tire-orders' });
  return {
    carOrdersStack: stackNames.carOrders(stage),
    tireOrdersStack: stackNames.tireOrders(stage),
    /** REST API and web ACL of each company (the same name). */
    carApi,
    tireApi,
    carWafLogGroup: wafLogGroupName(carApi),
    tireWafLogGroup: wafLogGroupName(tireApi),
    carUserPool: `${stage}-car-orders`,
    tireUserPool: `${stage}-tire-orders`,
    supplierTokenKeyAlias: `alias/${stage}/car-orders/supplier-token`,
    rotationScheduleGroup: rotationScheduleGroupName(stage),
    supplierConnectionParameter: supplierConnectionParameterName(stage),
    externalSupplierConnectionParameter: externalSupplierConnectionParameterName(stage),
    supplierTokenParameter: supplierTokenParameterName(stage),
    carMakerClientSecret: credentials.clientSecret,
    tireApiKeySecret: credentials.apiKey,
    partnerIpSet: partnerAllowlistName(stage),
    usagePlan: partnerUsagePlanName(stage),
    eventBus: supplierEventBusName(stage),
    callbackRule: COMPLETION_CALLBACK_RULE_NAME,
    /** Where the partner records are (the handlers' PARTNER_RECORD_PATH; the car maker's record is under it). */
    partnerRecordPath: partnerRecordPath(stage),
  };
}

/**
 * The resources CloudFormation names on AWS (see the module comment): these names are the local runtime's only.
 */
export function cfnNamedResources(stage: string) {
  return {
    carOrdersTable: `${stage}-car-orders-orders`,
    idempotencyTable: `${stage}-car-orders-idempotency`,
    tireOrdersTable: `${stage}-tire-orders-tire-orders`,
    supplierCallbackClientSecret: `${stage}/car-orders/supplier-callback/client-secret`,
    archive: `${stage}-tire-orders-archive`,
    apiDestination: `${stage}-car-maker-callback`,
    callbackDlq: `${stage}-tire-orders-callback-dlq`,
  };
}

/**
 * The SSM path of the supplier's partner records (shared/partners.ts): one String parameter per app client, named
 * path + client id. The tire-orders handlers read them (granted on this path only), the stack writes the car
 * maker's, the CLI those of the partners it onboards.
 */
export function partnerRecordPath(stage: string): string {
  return `/${stage}/tire-orders/partners/`;
}

/** A partner record's parameter name: the path and the client id (SSM names allow a-z, A-Z, 0-9, _ . - /). */
export function partnerRecordName(recordPath: string, clientId: string): string {
  return `${recordPath}${clientId}`;
}

/**
 * The API keys `b2b rotate supplier-api-key` bound for a client whose record the stack writes, in a parameter of
 * their own next to the record (shared/partners.ts PartnerKeyBinding): no template declares it, so a deploy that
 * rewrites the stack's record leaves the rotated keys bound. Under the record path, so the handlers' grant covers it.
 */
export function partnerKeyBindingName(recordPath: string, clientId: string): string {
  return `${partnerRecordName(recordPath, clientId)}/api-keys`;
}

/**
 * What the operator CLI creates per onboarded partner (`b2b partners onboard`), in both the local runtime and a
 * deployed stage: the partner's record (an SSM String parameter per app client), its secrets and its API key.
 */
export function partnerResourceNames(stage: string) {
  return {
    partnerRecordPath: partnerRecordPath(stage),
    partnerRecord: (clientId: string) => partnerRecordName(partnerRecordPath(stage), clientId),
    partnerClientSecret: (partner: string) => `${stage}/tire-orders/partners/${partner}/client-secret`,
    partnerApiKeySecret: (partner: string) => `${stage}/tire-orders/partners/${partner}/api-key`,
    partnerApiKey: (partner: string) => `${stage}-partner-${partner}`,
  };
}

/** Every name of a stage: what the stacks name, and the local names of what CloudFormation names. */
export function platformNames(stage: string) {
  return { ...stackNamedResources(stage), ...cfnNamedResources(stage) };
}

export type PlatformNames = ReturnType<typeof platformNames>;
