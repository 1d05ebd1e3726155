import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Caller } from '../../shared/auth/caller.js';
import { HttpError } from '../../shared/http/problem.js';
import { partnerKeyBindingName, partnerRecordName } from '../../shared/names.js';
import {
  parsePartnerKeyBinding,
  parsePartnerRecord,
  withKeyBinding,
  type PartnerKeyBinding,
  type PartnerRecord,
} from '../../shared/partners.js';
import { bindingRefusal, type RequestIdentity } from '../domain/partner-binding.js';
import { logger } from './powertools.js';

/**
 * How long a handler keeps a partner record in memory: a key or an address taken off a record (rotation's end,
 * revocation) stops being served within this time. An added one is served at once: a refusal re-reads the record.
 */
export const PARTNER_RECORD_MAX_AGE_SECONDS = 60;

/** SSM parameter names allow these characters only; a client id with others cannot have a record. */
const RECORD_NAME_SAFE = /^[A-Za-z0-9_.-]{1,128}$/;

type RecordRead = { record: PartnerRecord } | { absent: true };

/** Powertools caches values, not ParameterNotFound: an absent parameter (most clients have no key binding) is here. */
const absentUntil = new Map<string, number>();

/** Forgets the absent parameters (tests clear Powertools' cache with it). */
export function clearAbsentPartnerParameters(): void {
  absentUntil.clear();
}

/** A parameter's text, undefined when it does not exist; 503 when the records cannot be read. */
async function readParameter(name: string, forceFetch: boolean): Promise<string | undefined> {
  if (!forceFetch && (absentUntil.get(name) ?? 0) > Date.now()) return undefined;
  try {
    const text = await getParameter(name, { maxAge: PARTNER_RECORD_MAX_AGE_SECONDS, forceFetch });
    absentUntil.delete(name);
    return text;
  } catch (error) {
    if (((error as Error).cause as Error | undefined)?.name === 'ParameterNotFound') {
      absentUntil.set(name, Date.now() + PARTNER_RECORD_MAX_AGE_SECONDS * 1000);
      return undefined;
    }
    logger.error('Cannot read the partner record', { parameter: name, error: error as Error });
    throw new HttpError(503, 'Partner records cannot be read now; retry later');
  }
}

/** The keys a rotation bound next to the stack's record; a malformed binding binds no key (logged, as a record). */
async function readKeyBinding(name: string, forceFetch: boolean): Promise<PartnerKeyBinding | 'malformed' | undefined> {
  const text = await readParameter(name, forceFetch);
  if (text === undefined) return undefined;
  const parsed = parsePartnerKeyBinding(text);
  if ('binding' in parsed) return parsed.binding;
  logger.error('Partner key binding is malformed; the client is refused', { parameter: name, problem: parsed.problem });
  return 'malformed';
}

async function readRecord(recordPath: string, clientId: string, forceFetch: boolean): Promise<RecordRead> {
  const name = partnerRecordName(recordPath, clientId);
  const [text, binding] = await Promise.all([
    readParameter(name, forceFetch),
    readKeyBinding(partnerKeyBindingName(recordPath, clientId), forceFetch),
  ]);
  if (text === undefined || binding === 'malformed') return { absent: true };
  const parsed = parsePartnerRecord(text);
  if ('problem' in parsed) {
    // An operator's mistake, not the caller's: logged for them, and answered as no record (nothing is revealed).
    logger.error('Partner record is malformed; the client is refused', { parameter: name, problem: parsed.problem });
    return { absent: true };
  }
  return { record: withKeyBinding(parsed.record, binding) };
}

function identityOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>, caller: Caller): RequestIdentity {
  const identity = event.requestContext?.identity as
    Partial<APIGatewayProxyEvent['requestContext']['identity']> | undefined;
  return {
    clientId: caller.clientId,
    apiKeyId: typeof identity?.apiKeyId === 'string' && identity.apiKeyId !== '' ? identity.apiKeyId : undefined,
    sourceIp: typeof identity?.sourceIp === 'string' && identity.sourceIp !== '' ? identity.sourceIp : undefined,
  };
}

/**
 * Refuses (403 problem+json naming the failed check) a request whose API key or source address is not the calling
 * client's, or whose client has no partner record; 503 when the records cannot be read. A refusal by a cached
 * record is decided again on a fresh read, so a key or address just added to the record is served at once.
 */
export async function assertPartnerBinding(
  event: Pick<APIGatewayProxyEvent, 'requestContext'>,
  caller: Caller,
  recordPath: string,
): Promise<void> {
  const identity = identityOf(event, caller);
  const decide = async (forceFetch: boolean) => {
    if (!RECORD_NAME_SAFE.test(caller.clientId)) return bindingRefusal(undefined, identity);
    const read = await readRecord(recordPath, caller.clientId, forceFetch);
    return bindingRefusal('record' in read ? read.record : undefined, identity);
  };
  const refusal = (await decide(false)) && (await decide(true));
  if (refusal === undefined) return;
  logger.warn('Request refused by partner binding', {
    check: refusal.check,
    clientId: identity.clientId,
    apiKeyId: identity.apiKeyId,
    sourceIp: identity.sourceIp,
  });
  throw new HttpError(403, refusal.detail, { check: refusal.check });
}
