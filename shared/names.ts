/**
 * The names both stacks (and the local runtime) derive from the stage. They are the cross-stack contract for the
 * values the car maker reads at run time, so neither side copies a name the other chose: one function per name.
 * No CDK import here, so the runtime and the CLI can use them without loading aws-cdk-lib.
 */

/** A stage is part of stack names, Cognito domain prefixes and resource names: keep it short, lowercase and DNS-safe. */
export const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

export function assertStage(stage: string): string {
  if (!STAGE_PATTERN.test(stage)) {
    throw new Error(`stage "${stage}" must match ${STAGE_PATTERN} (lowercase letters, digits and hyphens, at most 20)`);
  }
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
