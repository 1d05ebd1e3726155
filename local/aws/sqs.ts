import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { JsonStore } from '../state/json-store.js';
import {
  decodePageToken,
  inputObject,
  optionalInteger,
  optionalString,
  optionalStringList,
  optionalStringMap,
  pageOf,
  requiredString,
  type Input,
} from './input.js';
import {
  AwsServiceError,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  type AwsJsonService,
  type AwsRequestContext,
} from './protocol.js';

/**
 * Amazon SQS (standard queues) over the AWS JSON 1.0 protocol the current SDK speaks (X-Amz-Target:
 * AmazonSQS.<Operation>, errors `com.amazonaws.sqs#<Type>` plus the `x-amzn-query-error: <code>;Sender` header of the
 * awsQueryCompatible trait). It is the local runtime's dead-letter queue, so it also has an in-process API
 * (`queue(name).send(...)`) for the local EventBridge. Messages, visibility and receive counts persist in a JsonStore.
 *
 * Semantics follow the SQS API reference: MD5OfMessageBody / MD5OfMessageAttributes (the SDK checks the body digest),
 * visibility timeouts, per-message delay, retention, receipt handles that change on every receive (only the latest
 * one deletes or changes visibility), one PurgeQueue per 60 seconds, CreateQueue idempotent for equal attributes.
 *
 * Deliberate differences: no FIFO queues and no redrive policy (UnsupportedOperation); ReceiveMessage validates
 * WaitTimeSeconds but answers at once (short poll) and, unlike SQS's sampled short poll, sees every visible message;
 * no batch operations, and no SetQueueAttributes or DeleteQueue (queues are declared by the runtime).
 */

export interface SqsMessageAttributeValue {
  DataType: string;
  StringValue?: string;
  /** base64, as the JSON protocol carries blobs. */
  BinaryValue?: string;
}

interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  attributes: Record<string, SqsMessageAttributeValue>;
  senderId: string;
  /** Epoch ms. */
  sentTimestamp: number;
  /** Epoch ms before which the message is not received (delay, then visibility timeout). */
  visibleAt: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** Identifies the latest receive; receipt handles of earlier receives no longer act on the message. */
  receiptId?: string;
}

interface StoredQueue {
  name: string;
  /** Epoch seconds. */
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  /** Settable attributes, as strings (the API's representation). */
  attributes: Record<string, string>;
  tags: Record<string, string>;
  lastPurgeAt?: number;
  messages: StoredMessage[];
}

interface SqsState {
  queues: Record<string, StoredQueue>;
}

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

export interface LocalSqsService extends AwsJsonService {
  /** CreateQueue without HTTP: creates the queue when absent (or checks its attributes match) and returns it. */
  ensureQueue(name: string, attributes?: Record<string, string>): LocalQueue;
  /** An existing queue by name or ARN; throws QueueDoesNotExist. */
  queue(nameOrArn: string): LocalQueue;
}

const ERROR_PREFIX = 'com.amazonaws.sqs#';

/** awsQueryError codes of the SQS model's exceptions (the SDK maps the header code back to the exception). */
const QUERY_ERROR_CODES: Record<string, string> = {
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueNameExists: 'QueueAlreadyExists',
  MessageNotInflight: 'AWS.SimpleQueueService.MessageNotInflight',
  PurgeQueueInProgress: 'AWS.SimpleQueueService.PurgeQueueInProgress',
  UnsupportedOperation: 'AWS.SimpleQueueService.UnsupportedOperation',
};

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

const invalidParameter = (message: string) => new AwsServiceError('InvalidParameterValue', message);
const missingParameter = (field: string) =>
  new AwsServiceError('MissingParameter', `The request must contain the parameter ${field}.`);
const queueDoesNotExist = () => new AwsServiceError('QueueDoesNotExist', 'The specified queue does not exist.');
const unsupported = (what: string) =>
  new AwsServiceError('UnsupportedOperation', `${what} is not supported by the local runtime.`);

export function queueArn(name: string): string {
  return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}`;
}

export function queueUrl(origin: string, name: string): string {
  return `${origin}/${LOCAL_ACCOUNT_ID}/${name}`;
}

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

/**
 * MD5OfMessageAttributes as SQS computes it: attributes sorted by name, each encoded as length-prefixed (4-byte
 * big-endian) name, data type, a transport byte (1 string/number, 2 binary) and length-prefixed value bytes.
 */
export function md5OfMessageAttributes(attributes: Record<string, SqsMessageAttributeValue>): string {
  const parts: Buffer[] = [];
  const lengthPrefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name] as SqsMessageAttributeValue;
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(attribute.DataType, 'utf8'));
    if (attribute.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      lengthPrefixed(Buffer.from(attribute.BinaryValue, 'base64'));
    } else {
      parts.push(Buffer.from([1]));
      lengthPrefixed(Buffer.from(attribute.StringValue ?? '', 'utf8'));
    }
  }
  return md5(Buffer.concat(parts));
}

/** Characters SQS accepts in bodies and string attribute values (XML 1.0 characters). */
// eslint-disable-next-line no-control-regex -- the allowed set starts with tab, line feed and carriage return
const VALID_CONTENT = /^[\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

function checkMessageAttributes(raw: unknown): Record<string, SqsMessageAttributeValue> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidParameter('MessageAttributes must be a map.');
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > 10)
    throw invalidParameter('Number of message attributes [' + entries.length + '] exceeds the allowed maximum [10].');
  const checked: Record<string, SqsMessageAttributeValue> = {};
  for (const [name, value] of entries) {
    if (
      !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
      name.startsWith('.') ||
      name.endsWith('.') ||
      name.includes('..') ||
      /^(aws|amazon)\./i.test(name)
    ) {
      throw invalidParameter(`Message attribute name '${name}' is invalid.`);
    }
    const attribute = inputObject(value);
    const dataType = requiredString(
      attribute,
      'DataType',
      () => invalidParameter(`The message attribute '${name}' must contain a non-empty attribute type.`),
      {
        min: 1,
        max: 256,
      },
    );
    const base = dataType.split('.')[0];
    if (base !== 'String' && base !== 'Number' && base !== 'Binary') {
      throw invalidParameter(
        `The type of message attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    }
    if (base === 'Binary') {
      const binary = optionalString(attribute, 'BinaryValue', invalidParameter);
      if (!binary)
        throw invalidParameter(`The message attribute '${name}' with type 'Binary' must use field 'Binary'.`);
      if (Buffer.from(binary, 'base64').toString('base64') !== binary)
        throw invalidParameter(`The message attribute '${name}' is not valid base64.`);
      checked[name] = { DataType: dataType, BinaryValue: binary };
    } else {
      const text = optionalString(attribute, 'StringValue', invalidParameter);
      if (!text)
        throw invalidParameter(
          `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${base}'.`,
        );
      if (!VALID_CONTENT.test(text))
        throw new AwsServiceError('InvalidMessageContents', `Invalid characters found in message attribute '${name}'.`);
      if (base === 'Number' && !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) {
        throw invalidParameter(`Can't cast the value of message attribute '${name}' to a number.`);
      }
      checked[name] = { DataType: dataType, StringValue: text };
    }
  }
  return checked;
}

function attributesSize(attributes: Record<string, SqsMessageAttributeValue>): number {
  return Object.entries(attributes).reduce(
    (size, [name, value]) =>
      size +
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType) +
      (value.BinaryValue !== undefined
        ? Buffer.from(value.BinaryValue, 'base64').length
        : Buffer.byteLength(value.StringValue ?? '')),
    0,
  );
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

function decodeReceiptHandle(handle: string): { queue: string; messageId: string; receiptId: string } {
  try {
    const parsed = JSON.parse(Buffer.from(handle, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof parsed.q === 'string' && typeof parsed.m === 'string' && typeof parsed.r === 'string') {
      return { queue: parsed.q, messageId: parsed.m, receiptId: parsed.r };
    }
  } catch {
    // reported below
  }
  throw new AwsServiceError(
    'ReceiptHandleIsInvalid',
    `The input receipt handle "${handle}" is not a valid receipt handle.`,
    404,
  );
}

function encodeReceiptHandle(queue: string, messageId: string, receiptId: string): string {
  return Buffer.from(JSON.stringify({ q: queue, m: messageId, r: receiptId }), 'utf8').toString('base64url');
}

function sqsContextOf(stateDir: string) {
  const store = new JsonStore<SqsState>(join(stateDir, 'sqs.json'), () => ({ queues: {} }));
  return { store };
}

type SqsContext = ReturnType<typeof sqsContextOf>;

function existing(svc: SqsContext, name: string): StoredQueue {
  const queue = svc.store.get().queues[name];
  if (!queue) throw queueDoesNotExist();
  return queue;
}

/** The queue a QueueUrl names: http(s)://host/<account>/<name>; the host is not checked (localhost vs 127.0.0.1). */
function fromUrl(svc: SqsContext, input: Input): StoredQueue {
  const url = requiredString(input, 'QueueUrl', () => missingParameter('QueueUrl'));
  let segments: string[];
  try {
    segments = new URL(url).pathname.split('/').filter(Boolean);
  } catch {
    throw new AwsServiceError('InvalidAddress', `The address ${url} is not valid for this endpoint.`, 404);
  }
  if (segments.length !== 2)
    throw new AwsServiceError('InvalidAddress', `The address ${url} is not valid for this endpoint.`, 404);
  if (segments[0] !== LOCAL_ACCOUNT_ID) throw queueDoesNotExist();
  return existing(svc, decodeURIComponent(segments[1] as string));
}

/** Drops messages older than the retention period. Returns the live messages. */
function live(svc: SqsContext, queue: StoredQueue, now: number): StoredMessage[] {
  const retentionMs =
    Number(queue.attributes.MessageRetentionPeriod ?? DEFAULT_ATTRIBUTES.MessageRetentionPeriod) * 1000;
  if (queue.messages.every((message) => message.sentTimestamp + retentionMs > now)) return queue.messages;
  return svc.store.update((state) => {
    const stored = state.queues[queue.name] as StoredQueue;
    stored.messages = stored.messages.filter((message) => message.sentTimestamp + retentionMs > now);
    return stored.messages;
  });
}

function counts(svc: SqsContext, queue: StoredQueue) {
  const now = Date.now();
  const messages = live(svc, queue, now);
  return {
    visible: messages.filter((m) => m.visibleAt <= now).length,
    inFlight: messages.filter((m) => m.visibleAt > now && m.receiveCount > 0).length,
    delayed: messages.filter((m) => m.visibleAt > now && m.receiveCount === 0).length,
  };
}

function createQueue(
  svc: SqsContext,
  name: string,
  attributes: Record<string, string>,
  tags: Record<string, string>,
): StoredQueue {
  if (name.endsWith('.fifo')) throw unsupported('FIFO queues are');
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
    throw invalidParameter('Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
  }
  const checked = checkQueueAttributes(attributes);
  const current = svc.store.get().queues[name];
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
  svc.store.update((state) => {
    state.queues[name] = queue;
  });
  return queue;
}

function sendMessage(
  svc: SqsContext,
  queue: StoredQueue,
  body: string,
  attributes: Record<string, SqsMessageAttributeValue>,
  delaySeconds: number | undefined,
  senderId: string,
) {
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
  svc.store.update((state) => {
    (state.queues[queue.name] as StoredQueue).messages.push(message);
  });
  const hasAttributes = Object.keys(attributes).length > 0;
  return {
    MessageId: message.messageId,
    MD5OfMessageBody: message.md5OfBody,
    ...(hasAttributes ? { MD5OfMessageAttributes: md5OfMessageAttributes(attributes) } : {}),
  };
}

function localQueue(svc: SqsContext, name: string): LocalQueue {
  return {
    name,
    arn: queueArn(name),
    url: (origin) => queueUrl(origin, name),
    send: (body, attributes, options) => {
      const delaySeconds = options?.delaySeconds;
      if (delaySeconds !== undefined && (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900)) {
        throw invalidParameter('DelaySeconds must be an integer from 0 to 900.');
      }
      return sendMessage(
        svc,
        existing(svc, name),
        body,
        checkMessageAttributes(attributes),
        delaySeconds,
        options?.senderId ?? LOCAL_ACCOUNT_ID,
      );
    },
    counts: () => counts(svc, existing(svc, name)),
  };
}

function wantedAttributes(svc: SqsContext, queue: StoredQueue, names: string[]): Record<string, string> {
  const all = names.includes('All');
  for (const name of names) {
    if (
      name !== 'All' &&
      !COMPUTED_ATTRIBUTES.includes(name) &&
      !(name in DEFAULT_ATTRIBUTES) &&
      !(name in INTEGER_ATTRIBUTES) &&
      !FREE_ATTRIBUTES.includes(name)
    ) {
      throw new AwsServiceError('InvalidAttributeName', `Unknown Attribute ${name}.`);
    }
  }
  const { visible, inFlight, delayed } = counts(svc, queue);
  const values: Record<string, string> = {
    ...queue.attributes,
    ApproximateNumberOfMessages: String(visible),
    ApproximateNumberOfMessagesNotVisible: String(inFlight),
    ApproximateNumberOfMessagesDelayed: String(delayed),
    CreatedTimestamp: String(queue.createdTimestamp),
    LastModifiedTimestamp: String(queue.lastModifiedTimestamp),
    QueueArn: queueArn(queue.name),
  };
  return Object.fromEntries(Object.entries(values).filter(([name]) => all || names.includes(name)));
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

function createQueueOperation(svc: SqsContext, raw: unknown, context: AwsRequestContext) {
  const input = inputObject(raw);
  const name = requiredString(input, 'QueueName', () => missingParameter('QueueName'));
  const attributes = optionalStringMap(input, 'Attributes') ?? {};
  const tags = optionalStringMap(input, 'tags') ?? {};
  const queue = createQueue(svc, name, attributes, tags);
  return { QueueUrl: queueUrl(context.origin, queue.name) };
}

function getQueueUrl(svc: SqsContext, raw: unknown, context: AwsRequestContext) {
  const input = inputObject(raw);
  const name = requiredString(input, 'QueueName', () => missingParameter('QueueName'));
  const owner = optionalString(input, 'QueueOwnerAWSAccountId', invalidParameter);
  if (owner !== undefined && owner !== LOCAL_ACCOUNT_ID) throw queueDoesNotExist();
  return { QueueUrl: queueUrl(context.origin, existing(svc, name).name) };
}

function listQueues(svc: SqsContext, raw: unknown, context: AwsRequestContext) {
  const input = inputObject(raw);
  const prefix = optionalString(input, 'QueueNamePrefix', invalidParameter) ?? '';
  const maxResults = optionalInteger(input, 'MaxResults', invalidParameter, { min: 1, max: 1000 });
  const after = decodePageToken(optionalString(input, 'NextToken', invalidParameter), () =>
    invalidParameter('Invalid NextToken value.'),
  );
  const names = Object.keys(svc.store.get().queues)
    .filter((name) => name.startsWith(prefix))
    .sort();
  // Without MaxResults SQS returns up to 1000 queues and no NextToken.
  const page = pageOf(names, (name) => name, after, maxResults ?? 1000);
  return {
    ...(page.items.length > 0 ? { QueueUrls: page.items.map((name) => queueUrl(context.origin, name)) } : {}),
    ...(page.nextToken && maxResults !== undefined ? { NextToken: page.nextToken } : {}),
  };
}

function getQueueAttributes(svc: SqsContext, raw: unknown) {
  const input = inputObject(raw);
  const queue = fromUrl(svc, input);
  const names = optionalStringList(input, 'AttributeNames', invalidParameter, { min: 0, max: 100 }) ?? [];
  const attributes = wantedAttributes(svc, queue, names);
  return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
}

function sendMessageOperation(svc: SqsContext, raw: unknown, context: AwsRequestContext) {
  const input = inputObject(raw);
  const queue = fromUrl(svc, input);
  const body = requiredString(input, 'MessageBody', () => missingParameter('MessageBody'));
  const delaySeconds = optionalInteger(input, 'DelaySeconds', invalidParameter, { min: 0, max: 900 });
  if (input.MessageGroupId !== undefined || input.MessageDeduplicationId !== undefined) {
    throw invalidParameter('The request include parameter that is not valid for this queue type');
  }
  const attributes = checkMessageAttributes(input.MessageAttributes);
  return sendMessage(svc, queue, body, attributes, delaySeconds, context.accessKeyId ?? LOCAL_ACCOUNT_ID);
}

function receiveMessage(svc: SqsContext, raw: unknown) {
  const input = inputObject(raw);
  const queue = fromUrl(svc, input);
  const maxMessages = optionalInteger(input, 'MaxNumberOfMessages', invalidParameter, { min: 1, max: 10 }) ?? 1;
  const visibilityTimeout =
    optionalInteger(input, 'VisibilityTimeout', invalidParameter, { min: 0, max: 43_200 }) ??
    Number(queue.attributes.VisibilityTimeout);
  optionalInteger(input, 'WaitTimeSeconds', invalidParameter, { min: 0, max: 20 });
  const systemNames = [
    ...(optionalStringList(input, 'AttributeNames', invalidParameter, { min: 0, max: 100 }) ?? []),
    ...(optionalStringList(input, 'MessageSystemAttributeNames', invalidParameter, { min: 0, max: 100 }) ?? []),
  ];
  const attributeNames =
    optionalStringList(input, 'MessageAttributeNames', invalidParameter, { min: 0, max: 100 }) ?? [];

  const now = Date.now();
  const received = svc.store.update((state) => {
    const stored = state.queues[queue.name] as StoredQueue;
    const retentionMs = Number(stored.attributes.MessageRetentionPeriod) * 1000;
    stored.messages = stored.messages.filter((message) => message.sentTimestamp + retentionMs > now);
    const available = stored.messages.filter((message) => message.visibleAt <= now).slice(0, maxMessages);
    for (const message of available) {
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      message.receiptId = randomBytes(12).toString('base64url');
      message.visibleAt = now + visibilityTimeout * 1000;
    }
    return available.map((message) => structuredClone(message));
  });
  if (received.length === 0) return {};

  const wantsSystem = (name: string) => systemNames.includes('All') || systemNames.includes(name);
  return {
    Messages: received.map((message) => {
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
        ReceiptHandle: encodeReceiptHandle(queue.name, message.messageId, message.receiptId as string),
        MD5OfBody: message.md5OfBody,
        Body: message.body,
        ...(Object.keys(returnedSystem).length > 0 ? { Attributes: returnedSystem } : {}),
        ...(hasAttributes
          ? {
              MessageAttributes: returnedAttributes,
              MD5OfMessageAttributes: md5OfMessageAttributes(returnedAttributes),
            }
          : {}),
      };
    }),
  };
}

function deleteMessage(svc: SqsContext, raw: unknown) {
  const input = inputObject(raw);
  const queue = fromUrl(svc, input);
  const handle = decodeReceiptHandle(requiredString(input, 'ReceiptHandle', () => missingParameter('ReceiptHandle')));
  if (handle.queue !== queue.name) {
    throw new AwsServiceError(
      'ReceiptHandleIsInvalid',
      'The input receipt handle is not a valid receipt handle for this queue.',
      404,
    );
  }
  // Only the latest receive's handle deletes; an older one succeeds without deleting (DeleteMessage reference).
  svc.store.update((state) => {
    const stored = state.queues[queue.name] as StoredQueue;
    stored.messages = stored.messages.filter(
      (m) => !(m.messageId === handle.messageId && m.receiptId === handle.receiptId),
    );
  });
  return {};
}

function changeMessageVisibility(svc: SqsContext, raw: unknown) {
  const input = inputObject(raw);
  const queue = fromUrl(svc, input);
  const handle = decodeReceiptHandle(requiredString(input, 'ReceiptHandle', () => missingParameter('ReceiptHandle')));
  const timeout = optionalInteger(input, 'VisibilityTimeout', invalidParameter, { min: 0, max: 43_200 });
  if (timeout === undefined) throw missingParameter('VisibilityTimeout');
  if (handle.queue !== queue.name) {
    throw new AwsServiceError(
      'ReceiptHandleIsInvalid',
      'The input receipt handle is not a valid receipt handle for this queue.',
      404,
    );
  }
  const now = Date.now();
  const message = queue.messages.find((m) => m.messageId === handle.messageId && m.receiptId === handle.receiptId);
  if (!message || message.visibleAt <= now) {
    throw new AwsServiceError('MessageNotInflight', 'The message referred to is not in flight.');
  }
  svc.store.update(() => {
    message.visibleAt = now + timeout * 1000;
  });
  return {};
}

function purgeQueue(svc: SqsContext, raw: unknown) {
  const queue = fromUrl(svc, inputObject(raw));
  const now = Date.now();
  if (queue.lastPurgeAt !== undefined && now - queue.lastPurgeAt < 60_000) {
    throw new AwsServiceError(
      'PurgeQueueInProgress',
      `Only one PurgeQueue operation on ${queue.name} is allowed every 60 seconds.`,
      403,
    );
  }
  svc.store.update((state) => {
    const stored = state.queues[queue.name] as StoredQueue;
    stored.messages = stored.messages.filter((message) => message.sentTimestamp > now);
    stored.lastPurgeAt = now;
  });
  return {};
}

export function createSqsService(stateDir: string): LocalSqsService {
  const svc = sqsContextOf(stateDir);
  return {
    targetPrefix: 'AmazonSQS',
    jsonVersion: '1.0',
    errorTypePrefix: ERROR_PREFIX,
    queryErrorCode: (type) => QUERY_ERROR_CODES[type] ?? type,

    ensureQueue(name, attributes = {}) {
      createQueue(svc, name, attributes, {});
      return localQueue(svc, name);
    },

    queue(nameOrArn) {
      const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[5] ?? '') : nameOrArn;
      if (nameOrArn.startsWith('arn:') && nameOrArn !== queueArn(name)) throw queueDoesNotExist();
      existing(svc, name);
      return localQueue(svc, name);
    },

    operations: {
      CreateQueue: (raw: unknown, context: AwsRequestContext) => createQueueOperation(svc, raw, context),
      GetQueueUrl: (raw: unknown, context: AwsRequestContext) => getQueueUrl(svc, raw, context),
      ListQueues: (raw: unknown, context: AwsRequestContext) => listQueues(svc, raw, context),
      GetQueueAttributes: (raw: unknown) => getQueueAttributes(svc, raw),
      SendMessage: (raw: unknown, context: AwsRequestContext) => sendMessageOperation(svc, raw, context),
      ReceiveMessage: (raw: unknown) => receiveMessage(svc, raw),
      DeleteMessage: (raw: unknown) => deleteMessage(svc, raw),
      ChangeMessageVisibility: (raw: unknown) => changeMessageVisibility(svc, raw),
      PurgeQueue: (raw: unknown) => purgeQueue(svc, raw),
    },
  };
}
