import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteMessageCommand, GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalRuntime } from '../../../local/runtime.js';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  PartnerConnection,
  TIRE_ORDER_COMPLETED,
  TIRE_ORDERS_EVENT_SOURCE,
  tireOrderClientResource,
  type TireOrderCompletedDetail,
} from '../../../shared/contracts.js';
import { sdkConfig } from './credentials.js';

/** A TireOrderCompleted detail for a car order, as the supplier's fulfilment publishes it. */
export function completedDetail(carOrderId: string, correlationId = `e2e-${randomUUID()}`): TireOrderCompletedDetail {
  return {
    tireOrderId: `tire-${randomUUID()}`,
    carOrderId,
    status: 'OrderCompleted',
    completedAt: new Date().toISOString(),
    correlationId,
  };
}

/** The supplier app client the car maker places tire orders with, read from the connection parameter in SSM. */
export async function carMakerOrderingClientId(runtime: LocalRuntime): Promise<string> {
  const ssm = new SSMClient(sdkConfig(runtime));
  try {
    const parameter = await ssm.send(
      new GetParameterCommand({ Name: runtime.description.names.supplierConnectionParameter }),
    );
    return PartnerConnection.parse(JSON.parse(parameter.Parameter?.Value ?? '')).clientId;
  } finally {
    ssm.destroy();
  }
}

/**
 * Publishes TireOrderCompleted events on the supplier's bus with the real EventBridge client, as the supplier's
 * fulfilment does: each names the client that placed the order in its resources (by default the car maker's, so
 * the callback rule delivers it). Returns their ids.
 */
export async function publishCompleted(
  runtime: LocalRuntime,
  details: TireOrderCompletedDetail[],
  options: { placedByClientId?: string } = {},
): Promise<string[]> {
  const clientId = options.placedByClientId ?? (await carMakerOrderingClientId(runtime));
  const client = new EventBridgeClient(sdkConfig(runtime));
  try {
    const result = await client.send(
      new PutEventsCommand({
        Entries: details.map((detail) => ({
          EventBusName: runtime.description.names.eventBus,
          Source: TIRE_ORDERS_EVENT_SOURCE,
          DetailType: TIRE_ORDER_COMPLETED,
          Resources: [tireOrderClientResource(clientId)],
          Detail: JSON.stringify(detail),
        })),
      }),
    );
    if (result.FailedEntryCount !== 0) throw new Error(`PutEvents refused entries: ${JSON.stringify(result.Entries)}`);
    return (result.Entries ?? []).map((entry) => entry.EventId ?? '');
  } finally {
    client.destroy();
  }
}

export interface DeadLetter {
  event: { id: string; detail: Record<string, unknown>; [key: string]: unknown };
  attributes: Record<string, string>;
}

/**
 * Reads (and deletes) every message in the callback dead-letter queue with the real SQS client: the event as its
 * body, EventBridge's String message attributes.
 */
export async function drainDeadLetters(runtime: LocalRuntime): Promise<DeadLetter[]> {
  const client = new SQSClient(sdkConfig(runtime));
  try {
    const { QueueUrl } = await client.send(
      new GetQueueUrlCommand({ QueueName: runtime.description.names.callbackDlq }),
    );
    const letters: DeadLetter[] = [];
    for (;;) {
      const page = await client.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          VisibilityTimeout: 30,
        }),
      );
      const messages = page.Messages ?? [];
      if (messages.length === 0) return letters;
      for (const message of messages) {
        letters.push({
          event: JSON.parse(message.Body ?? '{}') as DeadLetter['event'],
          attributes: Object.fromEntries(
            Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue ?? '']),
          ),
        });
        await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
      }
    }
  } finally {
    client.destroy();
  }
}
