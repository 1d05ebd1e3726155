import {
  carMakerCredentialSecretNames,
  partnerUsagePlanName,
  supplierEventBusName,
  supplierConnectionParameterName,
  supplierTokenParameterName,
} from '../shared/names.js';

/**
 * Local resource names. The ones the two companies share at run time (the connection parameter, the token
 * parameter, the credential secrets) come from the same functions the stacks use; the rest are what CDK would
 * generate, made readable.
 */
export function localNames(stage: string) {
  const credentials = carMakerCredentialSecretNames(stage);
  return {
    carOrdersTable: `${stage}-car-orders-orders`,
    idempotencyTable: `${stage}-car-orders-idempotency`,
    tireOrdersTable: `${stage}-tire-orders-tire-orders`,
    supplierConnectionParameter: supplierConnectionParameterName(stage),
    supplierTokenParameter: supplierTokenParameterName(stage),
    supplierTokenKeyAlias: `alias/${stage}-car-orders-supplier-token`,
    carMakerClientSecret: credentials.clientSecret,
    tireApiKeySecret: credentials.apiKey,
    supplierCallbackClientSecret: `${stage}/car-orders/supplier-callback/client-secret`,
    usagePlan: partnerUsagePlanName(stage),
    eventBus: supplierEventBusName(stage),
    archive: `${stage}-tire-orders-archive`,
    callbackRule: `${stage}-TireOrderCompletedToCarMaker`,
    apiDestination: `${stage}-car-maker-callback`,
    callbackDlq: `${stage}-tire-orders-callback-dlq`,
  };
}

export type LocalNames = ReturnType<typeof localNames>;
