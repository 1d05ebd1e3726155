import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { partnerAllowlistCidrs } from '../shared/allowlist.js';
import { partnerRecordName, type PlatformNames } from '../shared/names.js';
import type { PartnerRecord } from '../shared/partners.js';
import { connectionForCarMaker, tireOrdersClients, tireOrdersEvents } from '../tire-orders/service.js';
import { deadLetterSinkFromQueue, type LocalEventBridge } from './aws/eventbridge/bus.js';
import type { LocalSqsService } from './aws/sqs.js';

/**
 * What connects the two companies, as TireOrdersStack connects them: the PartnerConnection parameter the supplier
 * writes for the car maker, the car maker's partner record (its API key and egress), and the completion callback (bus, archive, rule, API destination, dead-letter queue),
 * each from the supplier's declaration (tire-orders/service.ts) and named by shared/names.ts.
 */

/** The parameter the car maker's functions read to reach the supplier's API. */
export async function writeConnectionForCarMaker(
  ssm: SSMClient,
  names: PlatformNames,
  endpoint: { apiUrl: string; tokenUrl: string; clientId: string },
): Promise<void> {
  const connection = connectionForCarMaker.of({
    ...endpoint,
    clientSecretId: names.carMakerClientSecret,
    apiKeySecretId: names.tireApiKeySecret,
  });
  await ssm.send(
    new PutParameterCommand({
      Name: names.supplierConnectionParameter,
      Type: 'String',
      Value: JSON.stringify(connection),
      Overwrite: true,
    }),
  );
}

/**
 * The car maker's partner record, which the supplier's handlers bind its requests to, written on every boot as the
 * stack writes it on every deploy: the bootstrapped API key and the car maker's egress address.
 */
export async function writeCarMakerPartnerRecord(
  ssm: SSMClient,
  names: PlatformNames,
  carMaker: { clientId: string; apiKeyId: string; egressAddress: string },
): Promise<void> {
  const record: PartnerRecord = {
    name: 'car-maker',
    clientId: carMaker.clientId,
    apiKeyIds: [carMaker.apiKeyId],
    cidrs: partnerAllowlistCidrs([carMaker.egressAddress], []),
    scopes: [...tireOrdersClients.carMaker.scopes],
    managedBy: 'stack',
  };
  await ssm.send(
    new PutParameterCommand({
      Name: partnerRecordName(names.partnerRecordPath, carMaker.clientId),
      Type: 'String',
      Value: JSON.stringify(record),
      Overwrite: true,
    }),
  );
}

export interface CompletionCallbackInputs {
  bridge: LocalEventBridge;
  sqs: LocalSqsService;
  secrets: SecretsManagerClient;
  names: PlatformNames;
  /** The supplier's app client the car maker orders with: the rule delivers only its orders' completions. */
  orderingClientId: string;
  /** Base URL of the car maker's API (its stage URL, or a test's scripted endpoint). */
  carApiUrl: string;
  /** The car maker's authorization server and the supplierCallback client it issued to the supplier. */
  carTokenUrl: string;
  callbackClientId: string;
  /** Source address of the supplier's deliveries. */
  egressAddress: string;
  retryPolicy?: { maximumRetryAttempts: number; maximumEventAgeSeconds: number };
  /** The API destination's rate (default the declaration's; the load-test profile's is higher). */
  invocationRateLimitPerSecond?: number;
}

export async function wireCompletionCallback(inputs: CompletionCallbackInputs): Promise<void> {
  const { bridge, names } = inputs;
  const { archive, completionCallback: callback } = tireOrdersEvents;
  bridge.createEventBus(names.eventBus);
  bridge.createArchive({
    name: names.archive,
    eventBusName: names.eventBus,
    eventPattern: archive.eventPattern,
    retentionDays: archive.defaultRetentionDays,
  });
  const dlq = inputs.sqs.ensureQueue(names.callbackDlq);
  const callbackSecret = await secretString(inputs.secrets, names.supplierCallbackClientSecret);
  bridge.putRule({
    name: names.callbackRule,
    eventBusName: names.eventBus,
    eventPattern: callback.eventPattern(inputs.orderingClientId),
    targets: [
      {
        kind: 'apiDestination',
        id: 'CarMakerCallback',
        name: names.apiDestination,
        endpoint: `${inputs.carApiUrl}/${callback.pathTemplate}`,
        httpMethod: callback.httpMethod,
        pathParameterValues: [...callback.pathParameterValues],
        headerParameters: { ...callback.headerParameters },
        inputPath: callback.inputPath,
        invocationRateLimitPerSecond: inputs.invocationRateLimitPerSecond ?? callback.invocationRateLimitPerSecond,
        retryPolicy: inputs.retryPolicy ?? callback.retryPolicy,
        connection: {
          authorizationEndpoint: inputs.carTokenUrl,
          httpMethod: 'POST',
          clientId: inputs.callbackClientId,
          clientSecret: callbackSecret,
          bodyParameters: { grant_type: 'client_credentials', scope: callback.scope },
        },
        deadLetter: deadLetterSinkFromQueue(dlq),
        localAddress: inputs.egressAddress,
      },
    ],
  });
}

async function secretString(client: SecretsManagerClient, secretId: string): Promise<string> {
  const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (result.SecretString === undefined) throw new Error(`Secret ${secretId} has no SecretString`);
  return result.SecretString;
}
