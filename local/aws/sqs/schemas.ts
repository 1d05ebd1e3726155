import { z } from 'zod';
import { integer, list, optional } from '../schema.js';

/**
 * SQS's input, one schema per operation, with the constraints of the SQS API reference. A missing required member
 * is SQS's MissingParameter (service.ts gives parseInput that hook); the queue name's rules, the body's size and
 * characters and the message attributes' rules are the provider's, which needs the queue to check them.
 */

const queueUrl = z.string();
const stringMap = optional(z.record(z.string(), z.string()));
const attributeNames = optional(list(z.string(), 0, 100));
const visibilityTimeout = integer(0, 43_200);

export const CreateQueueInput = z.object({ QueueName: z.string(), Attributes: stringMap, tags: stringMap });

export const GetQueueUrlInput = z.object({ QueueName: z.string(), QueueOwnerAWSAccountId: optional(z.string()) });

export const ListQueuesInput = z.object({
  QueueNamePrefix: optional(z.string()),
  MaxResults: optional(integer(1, 1000)),
  NextToken: optional(z.string()),
});

export const GetQueueAttributesInput = z.object({ QueueUrl: queueUrl, AttributeNames: attributeNames });

/** A message attribute as sent; its rules are checked by checkMessageAttributes (they apply in-process too). */
const messageAttribute = z.object({
  DataType: optional(z.string()),
  StringValue: optional(z.string()),
  BinaryValue: optional(z.string()),
});

export const SendMessageInput = z.object({
  QueueUrl: queueUrl,
  MessageBody: z.string(),
  DelaySeconds: optional(integer(0, 900)),
  MessageAttributes: optional(z.record(z.string(), messageAttribute)),
  // Read only to be refused: FIFO queues are not emulated.
  MessageGroupId: optional(z.string()),
  MessageDeduplicationId: optional(z.string()),
});

export const ReceiveMessageInput = z.object({
  QueueUrl: queueUrl,
  MaxNumberOfMessages: optional(integer(1, 10)),
  VisibilityTimeout: optional(visibilityTimeout),
  WaitTimeSeconds: optional(integer(0, 20)),
  AttributeNames: attributeNames,
  MessageSystemAttributeNames: attributeNames,
  MessageAttributeNames: attributeNames,
});

export const DeleteMessageInput = z.object({ QueueUrl: queueUrl, ReceiptHandle: z.string() });

export const ChangeMessageVisibilityInput = z.object({
  QueueUrl: queueUrl,
  ReceiptHandle: z.string(),
  VisibilityTimeout: visibilityTimeout,
});

export const PurgeQueueInput = z.object({ QueueUrl: queueUrl });
