import { randomBytes, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { decodePageToken, pageOf } from '../pagination.js';
import { AwsServiceError, LOCAL_ACCOUNT_ID, LOCAL_REGION, type AwsRequestContext } from '../protocol.js';
import {
  attributesSize,
  checkMessageAttributes,
  decodeReceiptHandle,
  encodeReceiptHandle,
  invalidParameter,
  md5,
  md5OfMessageAttributes,
  VALID_CONTENT,
} from './message.js';
import type * as input from './schemas.js';
import type { SqsMessageAttributeValue, SqsStore, StoredMessage, StoredQueue } from './store.js';

/**
 * SQS's behaviour on validated input (schemas.ts), as in the SQS API reference: MD5OfMessageBody /
 * MD5OfMessageAttributes, visibility timeouts, per-message delay, retention, receipt handles that change on every
 * receive (only the latest one deletes or changes visibility), one PurgeQueue per 60 seconds, CreateQueue idempotent
 * for equal attributes.
 */

export interface LocalQueue {
  readonly name: string;
  readonly arn: string;
  /** The queue URL as seen by a client that addressed `origin` (e.g. the endpoint's url). */
  url(origin: string): string;
  /** SendMessage without HTTP; the same checks, digests and persistence. */
  send(
    body: string,
    attributes?: Record<string, SqsMessageAttributeValue>,
    options?: { delaySeconds?: number; senderId?: string },
  ): { MessageId: string; MD5OfMessageBody: string; MD5OfMessageAttributes?: string };
  /** ApproximateNumberOfMessages, ...NotVisible and ...Delayed, exactly. */
  counts(): { visible: number; inFlight: number; delayed: number };
}

const DEFAULT_ATTRIBUTES: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  SqsManagedSseEnabled: 'true',
};

const INTEGER_ATTRIBUTES: Record<string, [number, number]> = {
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, 1_048_576],
  MessageRetentionPeriod: [60, 1_209_600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43_200],
  KmsDataKeyReusePeriodSeconds: [60, 86_400],
};
const FREE_ATTRIBUTES = ['Policy', 'KmsMasterKeyId', 'SqsManagedSseEnabled'];
const UNSUPPORTED_ATTRIBUTES = [
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
];
const COMPUTED_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
];
const SYSTEM_ATTRIBUTES = ['SenderId', 'SentTimestamp', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp'];

export const missingParameter = (field: string) =>
  new AwsServiceError('MissingParameter', `The request must contain the parameter ${field}.`);
export const queueDoesNotExist = () => new AwsServiceError('QueueDoesNotExist', 'The specified queue does not exist.');
const unsupported = (what: string) =>
  new AwsServiceError('UnsupportedOperation', `${what} is not supported by the local runtime.`);
const invalidAddress = (url: string) =>
  new AwsServiceError('InvalidAddress', `The address ${url} is not valid for this endpoint.`, 404);

export function queueArn(name: string): string {
  return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}`;
}

export function queueUrl(origin: string, name: string): string {
  return `${origin}/${LOCAL_ACCOUNT_ID}/${name}`;
}

export class SqsProvider {
  constructor(private readonly store: SqsStore) {}

  createQueue({ QueueName, Attributes, tags }: z.output<typeof input.CreateQueueInput>, context: AwsRequestContext) {
    const queue = this.ensure(QueueName, Attributes ?? {}, tags ?? {});
    return { QueueUrl: queueUrl(context.origin, queue.name) };
  }

  getQueueUrl(request: z.output<typeof input.GetQueueUrlInput>, context: AwsRequestContext) {
    const owner = request.QueueOwnerAWSAccountId;
    if (owner !== undefined && owner !== LOCAL_ACCOUNT_ID) throw queueDoesNotExist();
    return { QueueUrl: queueUrl(context.origin, this.existing(request.QueueName).name) };
  }

  listQueues(request: z.output<typeof input.ListQueuesInput>, context: AwsRequestContext) {
    const prefix = request.QueueNamePrefix ?? '';
    const after = decodePageToken(request.NextToken, () => invalidParameter('Invalid NextToken value.'));
    const names = this.store
      .names()
      .filter((name) => name.startsWith(prefix))
      .sort();
    // Without MaxResults SQS returns up to 1000 queues and no NextToken.
    const page = pageOf(names, (name) => name, after, request.MaxResults ?? 1000);
    return {
      ...(page.items.length > 0 ? { QueueUrls: page.items.map((name) => queueUrl(context.origin, name)) } : {}),
      ...(page.nextToken && request.MaxResults !== undefined ? { NextToken: page.nextToken } : {}),
    };
  }

  getQueueAttributes(request: z.output<typeof input.GetQueueAttributesInput>) {
    const attributes = this.wantedAttributes(this.fromUrl(request.QueueUrl), request.AttributeNames ?? []);
    return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
  }

  sendMessage(request: z.output<typeof input.SendMessageInput>, context: AwsRequestContext) {
    const queue = this.fromUrl(request.QueueUrl);
    if (request.MessageGroupId !== undefined || request.MessageDeduplicationId !== undefined) {
      throw invalidParameter('The request include parameter that is not valid for this queue type');
    }
    const attributes = checkMessageAttributes(request.MessageAttributes);
    const senderId = context.accessKeyId ?? LOCAL_ACCOUNT_ID;
    return this.send(queue, request.MessageBody, attributes, request.DelaySeconds, senderId);
  }

  receiveMessage(request: z.output<typeof input.ReceiveMessageInput>) {
    const queue = this.fromUrl(request.QueueUrl);
    const visibilityTimeout = request.VisibilityTimeout ?? Number(queue.attributes.VisibilityTimeout);
    const systemNames = [...(request.AttributeNames ?? []), ...(request.MessageSystemAttributeNames ?? [])];
    const now = Date.now();
    const received = this.store.change(queue.name, (stored) => {
      const retentionMs = Number(stored.attributes.MessageRetentionPeriod) * 1000;
      stored.messages = stored.messages.filter((message) => message.sentTimestamp + retentionMs > now);
      const available = stored.messages
        .filter((message) => message.visibleAt <= now)
        .slice(0, request.MaxNumberOfMessages ?? 1);
      for (const message of available) {
        message.receiveCount += 1;
        message.firstReceiveTimestamp ??= now;
        message.receiptId = randomBytes(12).toString('base64url');
        message.visibleAt = now + visibilityTimeout * 1000;
      }
      return available.map((message) => structuredClone(message));
    });
    if (received.length === 0) return {};
    const attributeNames = request.MessageAttributeNames ?? [];
    return { Messages: received.map((message) => receivedMessage(queue.name, message, systemNames, attributeNames)) };
  }

  deleteMessage(request: z.output<typeof input.DeleteMessageInput>) {
    const queue = this.fromUrl(request.QueueUrl);
    const handle = handleFor(queue, request.ReceiptHandle);
    // Only the latest receive's handle deletes; an older one succeeds without deleting (DeleteMessage reference).
    this.store.change(queue.name, (stored) => {
      stored.messages = stored.messages.filter(
        (m) => !(m.messageId === handle.messageId && m.receiptId === handle.receiptId),
      );
    });
    return {};
  }

  changeMessageVisibility(request: z.output<typeof input.ChangeMessageVisibilityInput>) {
    const queue = this.fromUrl(request.QueueUrl);
    const handle = handleFor(queue, request.ReceiptHandle);
    const now = Date.now();
    const isHandled = (m: StoredMessage) => m.messageId === handle.messageId && m.receiptId === handle.receiptId;
    const message = queue.messages.find(isHandled);
    if (!message || message.visibleAt <= now) {
      throw new AwsServiceError('MessageNotInflight', 'The message referred to is not in flight.');
    }
    this.store.change(queue.name, (stored) => {
      (stored.messages.find(isHandled) as StoredMessage).visibleAt = now + request.VisibilityTimeout * 1000;
    });
    return {};
  }

  purgeQueue(request: z.output<typeof input.PurgeQueueInput>) {
    const queue = this.fromUrl(request.QueueUrl);
    const now = Date.now();
    if (queue.lastPurgeAt !== undefined && now - queue.lastPurgeAt < 60_000) {
      throw new AwsServiceError(
        'PurgeQueueInProgress',
        `Only one PurgeQueue operation on ${queue.name} is allowed every 60 seconds.`,
        403,
      );
    }
    this.store.change(queue.name, (stored) => {
      stored.messages = stored.messages.filter((message) => message.sentTimestamp > now);
      stored.lastPurgeAt = now;
    });
    return {};
  }

  /** CreateQueue's rules: creates the queue when absent, or checks the attributes asked for match it. */
  ensure(name: string, attributes: Record<string, string>, tags: Record<string, string>): StoredQueue {
    if (name.endsWith('.fifo')) throw unsupported('FIFO queues are');
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
      throw invalidParameter('Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
    }
    const checked = checkQueueAttributes(attributes);
    const current = this.store.queue(name);
    if (current) {
      for (const [attribute, value] of Object.entries(checked)) {
        if ((current.attributes[attribute] ?? DEFAULT_ATTRIBUTES[attribute]) !== value) {
          throw new AwsServiceError(
            'QueueNameExists',
            `A queue already exists with the same name and a different value for attribute ${attribute}`,
          );
        }
      }
      return current;
    }
    const now = Math.floor(Date.now() / 1000);
    const queue: StoredQueue = {
      name,
      createdTimestamp: now,
      lastModifiedTimestamp: now,
      attributes: { ...DEFAULT_ATTRIBUTES, ...checked },
      tags,
      messages: [],
    };
    this.store.put(queue);
    return queue;
  }

  /** The in-process queue the local EventBridge sends dead letters to. */
  localQueue(name: string): LocalQueue {
    return {
      name,
      arn: queueArn(name),
      url: (origin) => queueUrl(origin, name),
      send: (body, attributes, options) => {
        const delaySeconds = options?.delaySeconds;
        if (delaySeconds !== undefined && (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900)) {
          throw invalidParameter('DelaySeconds must be an integer from 0 to 900.');
        }
        const checked = checkMessageAttributes(attributes);
        return this.send(this.existing(name), body, checked, delaySeconds, options?.senderId ?? LOCAL_ACCOUNT_ID);
      },
      counts: () => this.counts(this.existing(name)),
    };
  }

  existing(name: string): StoredQueue {
    const queue = this.store.queue(name);
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  /** The queue a QueueUrl names: http(s)://host/<account>/<name>; the host is not checked (localhost vs 127.0.0.1). */
  private fromUrl(url: string): StoredQueue {
    let segments: string[];
    try {
      segments = new URL(url).pathname.split('/').filter(Boolean);
    } catch {
      throw invalidAddress(url);
    }
    if (segments.length !== 2) throw invalidAddress(url);
    if (segments[0] !== LOCAL_ACCOUNT_ID) throw queueDoesNotExist();
    return this.existing(decodeURIComponent(segments[1] as string));
  }

  private send(
    queue: StoredQueue,
    body: string,
    attributes: Record<string, SqsMessageAttributeValue>,
    delaySeconds: number | undefined,
    senderId: string,
  ) {
    checkBody(queue, body, attributes);
    const now = Date.now();
    const delay = delaySeconds ?? Number(queue.attributes.DelaySeconds ?? 0);
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5(body),
      attributes,
      senderId,
      sentTimestamp: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
    };
    this.store.change(queue.name, (stored) => stored.messages.push(message));
    const hasAttributes = Object.keys(attributes).length > 0;
    return {
      MessageId: message.messageId,
      MD5OfMessageBody: message.md5OfBody,
      ...(hasAttributes ? { MD5OfMessageAttributes: md5OfMessageAttributes(attributes) } : {}),
    };
  }

  /** Drops messages older than the retention period. Returns the live messages. */
  private live(queue: StoredQueue, now: number): StoredMessage[] {
    const retentionMs =
      Number(queue.attributes.MessageRetentionPeriod ?? DEFAULT_ATTRIBUTES.MessageRetentionPeriod) * 1000;
    if (queue.messages.every((message) => message.sentTimestamp + retentionMs > now)) return queue.messages;
    return this.store.change(queue.name, (stored) => {
      stored.messages = stored.messages.filter((message) => message.sentTimestamp + retentionMs > now);
      return stored.messages;
    });
  }

  private counts(queue: StoredQueue) {
    const now = Date.now();
    const messages = this.live(queue, now);
    return {
      visible: messages.filter((m) => m.visibleAt <= now).length,
      inFlight: messages.filter((m) => m.visibleAt > now && m.receiveCount > 0).length,
      delayed: messages.filter((m) => m.visibleAt > now && m.receiveCount === 0).length,
    };
  }

  private wantedAttributes(queue: StoredQueue, names: string[]): Record<string, string> {
    for (const name of names) {
      if (name !== 'All' && !COMPUTED_ATTRIBUTES.includes(name) && !isSettableAttribute(name)) {
        throw new AwsServiceError('InvalidAttributeName', `Unknown Attribute ${name}.`);
      }
    }
    const { visible, inFlight, delayed } = this.counts(queue);
    const values: Record<string, string> = {
      ...queue.attributes,
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
      CreatedTimestamp: String(queue.createdTimestamp),
      LastModifiedTimestamp: String(queue.lastModifiedTimestamp),
      QueueArn: queueArn(queue.name),
    };
    const all = names.includes('All');
    return Object.fromEntries(Object.entries(values).filter(([name]) => all || names.includes(name)));
  }
}

function isSettableAttribute(name: string): boolean {
  return name in DEFAULT_ATTRIBUTES || name in INTEGER_ATTRIBUTES || FREE_ATTRIBUTES.includes(name);
}

/** The body's characters and its size with the attributes, against the queue's MaximumMessageSize. */
function checkBody(queue: StoredQueue, body: string, attributes: Record<string, SqsMessageAttributeValue>): void {
  if (body.length === 0) throw invalidParameter('The request must contain the parameter MessageBody.');
  if (!VALID_CONTENT.test(body)) {
    throw new AwsServiceError(
      'InvalidMessageContents',
      'Invalid characters found. Valid characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
    );
  }
  const maximum = Number(queue.attributes.MaximumMessageSize ?? DEFAULT_ATTRIBUTES.MaximumMessageSize);
  if (Buffer.byteLength(body) + attributesSize(attributes) > maximum) {
    throw invalidParameter(
      `One or more parameters are invalid. Reason: Message must be shorter than ${maximum} bytes.`,
    );
  }
}

/** A receipt handle of this queue. */
function handleFor(queue: StoredQueue, receiptHandle: string) {
  const handle = decodeReceiptHandle(receiptHandle);
  if (handle.queue !== queue.name) {
    throw new AwsServiceError(
      'ReceiptHandleIsInvalid',
      'The input receipt handle is not a valid receipt handle for this queue.',
      404,
    );
  }
  return handle;
}

function receivedMessage(queueName: string, message: StoredMessage, systemNames: string[], attributeNames: string[]) {
  const wantsSystem = (name: string) => systemNames.includes('All') || systemNames.includes(name);
  const system: Record<string, string> = {
    SenderId: message.senderId,
    SentTimestamp: String(message.sentTimestamp),
    ApproximateReceiveCount: String(message.receiveCount),
    ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp),
  };
  const returnedSystem = Object.fromEntries(
    SYSTEM_ATTRIBUTES.filter(wantsSystem).map((name) => [name, system[name] as string]),
  );
  const returnedAttributes = Object.fromEntries(
    Object.entries(message.attributes).filter(([name]) => matchesAttributeName(name, attributeNames)),
  );
  const hasAttributes = Object.keys(returnedAttributes).length > 0;
  return {
    MessageId: message.messageId,
    ReceiptHandle: encodeReceiptHandle(queueName, message.messageId, message.receiptId as string),
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(Object.keys(returnedSystem).length > 0 ? { Attributes: returnedSystem } : {}),
    ...(hasAttributes
      ? { MessageAttributes: returnedAttributes, MD5OfMessageAttributes: md5OfMessageAttributes(returnedAttributes) }
      : {}),
  };
}

/** Checks settable queue attributes; returns them as stored. */
function checkQueueAttributes(attributes: Record<string, string>): Record<string, string> {
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const range = INTEGER_ATTRIBUTES[name];
    if (range) {
      const number = Number(value);
      if (!/^\d+$/.test(value) || number < range[0] || number > range[1]) {
        throw new AwsServiceError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
      }
      checked[name] = String(number);
    } else if (name === 'FifoQueue') {
      if (value === 'true') throw unsupported('FIFO queues are');
      if (value !== 'false')
        throw new AwsServiceError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
    } else if (UNSUPPORTED_ATTRIBUTES.includes(name)) {
      throw unsupported(`The ${name} attribute`);
    } else if (FREE_ATTRIBUTES.includes(name)) {
      if (name === 'SqsManagedSseEnabled' && value !== 'true' && value !== 'false') {
        throw new AwsServiceError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
      }
      checked[name] = value;
    } else {
      throw new AwsServiceError('InvalidAttributeName', `Unknown Attribute ${name}.`);
    }
  }
  return checked;
}

function matchesAttributeName(name: string, wanted: string[]): boolean {
  return wanted.some((pattern) =>
    pattern === 'All' || pattern === '.*'
      ? true
      : pattern.endsWith('.*')
        ? name.startsWith(pattern.slice(0, -1))
        : pattern === name,
  );
}
