import { createHash } from 'node:crypto';
import { AwsServiceError } from '../protocol.js';
import type { SqsMessageAttributeValue } from './store.js';

/** SQS's message rules: digests, the characters and attributes SQS accepts, and receipt handles. */

/** A message attribute as sent (over HTTP or in-process), before its rules are checked. */
export interface MessageAttributeInput {
  DataType?: string | undefined;
  StringValue?: string | undefined;
  BinaryValue?: string | undefined;
}

export const invalidParameter = (message: string) => new AwsServiceError('InvalidParameterValue', message);

export const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

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
export const VALID_CONTENT = /^[\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

/** The message attributes SQS accepts (at most 10; names, data types and values as in the SendMessage reference). */
export function checkMessageAttributes(
  attributes: Record<string, MessageAttributeInput> | undefined,
): Record<string, SqsMessageAttributeValue> {
  const entries = Object.entries(attributes ?? {});
  if (entries.length > 10)
    throw invalidParameter('Number of message attributes [' + entries.length + '] exceeds the allowed maximum [10].');
  return Object.fromEntries(entries.map(([name, value]) => [name, checkMessageAttribute(name, value)]));
}

function checkMessageAttribute(name: string, attribute: MessageAttributeInput): SqsMessageAttributeValue {
  if (
    !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
    name.startsWith('.') ||
    name.endsWith('.') ||
    name.includes('..') ||
    /^(aws|amazon)\./i.test(name)
  ) {
    throw invalidParameter(`Message attribute name '${name}' is invalid.`);
  }
  const dataType = attribute.DataType;
  if (!dataType || dataType.length > 256)
    throw invalidParameter(`The message attribute '${name}' must contain a non-empty attribute type.`);
  const base = dataType.split('.')[0];
  if (base !== 'String' && base !== 'Number' && base !== 'Binary') {
    throw invalidParameter(
      `The type of message attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
    );
  }
  if (base === 'Binary') {
    const binary = attribute.BinaryValue;
    if (!binary) throw invalidParameter(`The message attribute '${name}' with type 'Binary' must use field 'Binary'.`);
    if (Buffer.from(binary, 'base64').toString('base64') !== binary)
      throw invalidParameter(`The message attribute '${name}' is not valid base64.`);
    return { DataType: dataType, BinaryValue: binary };
  }
  const text = attribute.StringValue;
  if (!text)
    throw invalidParameter(
      `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${base}'.`,
    );
  if (!VALID_CONTENT.test(text))
    throw new AwsServiceError('InvalidMessageContents', `Invalid characters found in message attribute '${name}'.`);
  if (base === 'Number' && !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) {
    throw invalidParameter(`Can't cast the value of message attribute '${name}' to a number.`);
  }
  return { DataType: dataType, StringValue: text };
}

export function attributesSize(attributes: Record<string, SqsMessageAttributeValue>): number {
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

export function decodeReceiptHandle(handle: string): { queue: string; messageId: string; receiptId: string } {
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

export function encodeReceiptHandle(queue: string, messageId: string, receiptId: string): string {
  return Buffer.from(JSON.stringify({ q: queue, m: messageId, r: receiptId }), 'utf8').toString('base64url');
}
