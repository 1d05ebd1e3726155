import { createHash, createHmac, timingSafeEqual, type BinaryLike } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentials } from './credentials.js';

/**
 * AWS Signature Version 4 on the local AWS endpoint and store, checked as AWS checks it: the Authorization header is
 * parsed, the canonical request rebuilt from the method, path, query, the headers the client says it signed and
 * the body's hash, and signed again with the runtime's secret for the client's date, region and service (the same
 * @smithy/signature-v4 code the SDK signs with); the two signatures are compared in constant time. The request's
 * date may be off by 15 minutes either way, as in AWS. Presigned (query-string) requests are refused: none of the
 * emulated services' SDK clients presign.
 */

export type SigV4Problem = 'missing' | 'incomplete' | 'unknown-key' | 'bad-signature' | 'expired';

export interface SigV4Failure {
  problem: SigV4Problem;
  message: string;
}

export interface SignedRequest {
  method: string;
  /** The request target as received: path and raw query. */
  url: string;
  headers: IncomingHttpHeaders;
}

/** AWS allows this much clock difference between the request's X-Amz-Date and its own clock. */
export const ALLOWED_CLOCK_SKEW_MS = 15 * 60 * 1000;

const ALGORITHM = 'AWS4-HMAC-SHA256';

export const SIGV4_MESSAGES = {
  missing: 'Request is missing Authentication Token',
  unknownKey: 'The security token included in the request is invalid.',
  badSignature:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access ' +
    'Key and signing method. Consult the service documentation for details.',
} as const;

/** The failure of a request's signature against `credentials`, or undefined when it is valid. */
export async function verifySigV4(
  request: SignedRequest,
  body: Buffer,
  credentials: AwsCredentials,
  now: number = Date.now(),
): Promise<SigV4Failure | undefined> {
  const parsed = parseAuthorization(request);
  if ('problem' in parsed) return parsed;
  if (parsed.accessKeyId !== credentials.accessKeyId)
    return { problem: 'unknown-key', message: SIGV4_MESSAGES.unknownKey };
  const dated = signingDateOf(request.headers, parsed.day, now);
  if ('problem' in dated) return dated;
  const headers = signedHeadersOf(request.headers, parsed.signedHeaders);
  if (!headers) return { problem: 'bad-signature', message: SIGV4_MESSAGES.badSignature };
  const claimedHash = request.headers['x-amz-content-sha256'];
  if (typeof claimedHash === 'string' && claimedHash !== createHash('sha256').update(body).digest('hex')) {
    return { problem: 'bad-signature', message: "The provided 'x-amz-content-sha256' header does not match the body." };
  }
  const expected = await expectedSignature(request, body, headers, { ...parsed, credentials, date: dated.date });
  const given = Buffer.from(parsed.signature, 'utf8');
  const computed = Buffer.from(expected, 'utf8');
  if (given.length !== computed.length || !timingSafeEqual(given, computed)) {
    return { problem: 'bad-signature', message: SIGV4_MESSAGES.badSignature };
  }
  return undefined;
}

interface ParsedAuthorization {
  accessKeyId: string;
  day: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(request: SignedRequest): ParsedAuthorization | SigV4Failure {
  const header = request.headers.authorization;
  if (header === undefined) {
    return /[?&]X-Amz-(Signature|Algorithm)=/i.test(request.url)
      ? incomplete('Presigned (query-string) requests are not accepted here; sign the Authorization header.')
      : { problem: 'missing', message: SIGV4_MESSAGES.missing };
  }
  if (!header.startsWith(`${ALGORITHM} `)) return incomplete(`Only ${ALGORITHM} Authorization headers are accepted.`);
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(',')) {
    const equals = part.indexOf('=');
    if (equals > 0) fields.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) {
    return incomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.");
  }
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || scope.some((part) => part === '')) {
    return incomplete(
      `Credential should be scoped as <key>/<date>/<region>/<service>/aws4_request, not ${credential}.`,
    );
  }
  const [accessKeyId, day, region, service] = scope as [string, string, string, string];
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  return { accessKeyId, day, region, service, signedHeaders: names, signature };
}

function incomplete(message: string): SigV4Failure {
  return { problem: 'incomplete', message };
}

/** X-Amz-Date as a Date, refused when it is missing, out of the credential's day, or beyond the allowed skew. */
function signingDateOf(headers: IncomingHttpHeaders, day: string, now: number): { date: Date } | SigV4Failure {
  const stamp = headers['x-amz-date'];
  const match = typeof stamp === 'string' ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp) : null;
  if (!match || typeof stamp !== 'string')
    return incomplete('Authorization header requires existence of an X-Amz-Date header (yyyyMMddTHHmmssZ).');
  const [, y, mo, d, h, mi, s] = match;
  const date = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!));
  if (Number.isNaN(date.getTime())) return incomplete(`X-Amz-Date ${stamp} is not a date.`);
  if (!stamp.startsWith(day)) {
    return { problem: 'bad-signature', message: `Credential should be scoped to the date of X-Amz-Date (${day}).` };
  }
  if (date.getTime() < now - ALLOWED_CLOCK_SKEW_MS) {
    return {
      problem: 'expired',
      message: `Signature expired: ${stamp} is now earlier than ${amzDate(now - ALLOWED_CLOCK_SKEW_MS)} (${amzDate(now)} - 15 min.)`,
    };
  }
  if (date.getTime() > now + ALLOWED_CLOCK_SKEW_MS) {
    return {
      problem: 'expired',
      message: `Signature not yet current: ${stamp} is still later than ${amzDate(now + ALLOWED_CLOCK_SKEW_MS)} (${amzDate(now)} + 15 min.)`,
    };
  }
  return { date };
}

export function amzDate(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** Only the headers the client signed, or undefined when one of them is absent. */
function signedHeadersOf(headers: IncomingHttpHeaders, names: string[]): Record<string, string> | undefined {
  const signed: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name];
    if (value === undefined) return undefined;
    signed[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return signed;
}

/**
 * One signer per access key, region and service: a SignatureV4 caches the day's derived signing key (four HMACs),
 * which a signer made per request would derive again every time.
 */
const verifyingSigners = new Map<string, { secretAccessKey: string; signer: SignatureV4 }>();

function verifyingSigner(credentials: AwsCredentials, region: string, service: string): SignatureV4 {
  const key = `${credentials.accessKeyId}\0${region}\0${service}`;
  const cached = verifyingSigners.get(key);
  if (cached?.secretAccessKey === credentials.secretAccessKey) return cached.signer;
  if (verifyingSigners.size >= 64) verifyingSigners.clear();
  const signer = new SignatureV4({
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    region,
    service,
    sha256: NodeSha256,
    uriEscapePath: service !== 's3',
    // Sign only what the client signed: no x-amz-content-sha256 of our own (botocore does not send one).
    applyChecksum: false,
  });
  verifyingSigners.set(key, { secretAccessKey: credentials.secretAccessKey, signer });
  return signer;
}

async function expectedSignature(
  request: SignedRequest,
  body: Buffer,
  headers: Record<string, string>,
  scope: ParsedAuthorization & { credentials: AwsCredentials; date: Date },
): Promise<string> {
  const questionMark = request.url.indexOf('?');
  const path = questionMark < 0 ? request.url : request.url.slice(0, questionMark);
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(questionMark < 0 ? '' : request.url.slice(questionMark + 1))) {
    const previous = query[key];
    query[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  const signer = verifyingSigner(scope.credentials, scope.region, scope.service);
  const signed = await signer.sign(
    { method: request.method, protocol: 'http:', hostname: 'localhost', path, query, headers, body },
    { signingDate: scope.date, signableHeaders: new Set(scope.signedHeaders), signingRegion: scope.region },
  );
  return /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))?.[1] ?? '';
}

/** The runtime's own signing (the endpoint's proxy to the store, raw test requests), with the same library. */
export async function signRequest(
  request: { method: string; url: URL; headers: Record<string, string>; body: string | Buffer },
  credentials: AwsCredentials,
  scope: { region: string; service: string; date?: Date },
): Promise<Record<string, string>> {
  const signer = new SignatureV4({ credentials, region: scope.region, service: scope.service, sha256: NodeSha256 });
  const query: Record<string, string> = Object.fromEntries(request.url.searchParams);
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      path: request.url.pathname,
      query,
      headers: { ...request.headers, host: request.url.host },
      body: request.body,
    },
    scope.date ? { signingDate: scope.date } : {},
  );
  return signed.headers as Record<string, string>;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): BinaryLike {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** SHA-256 / HMAC-SHA256 in the shape the signer expects (a Checksum constructor), from node:crypto. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}
