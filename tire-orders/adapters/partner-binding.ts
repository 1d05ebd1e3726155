import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Caller } from '../../shared/auth/caller.js';
import { HttpError } from '../../shared/http/problem.js';
import { partnerRecordName } from '../../shared/names.js';
import { parsePartnerRecord, type PartnerRecord } from '../../shared/partners.js';
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

async function readRecord(name: string, forceFetch: boolean): Promise<RecordRead> {
  let text: string | undefined;
  try {
    text = await getParameter(name, { maxAge: PARTNER_RECORD_MAX_AGE_SECONDS, forceFetch });
  } catch (error) {
    if (((error as Error).cause as Error | undefined)?.name === 'ParameterNotFound') return { absent: true };
    logger.error('Cannot read the partner record', { parameter: name, error: error as Error });
    throw new HttpError(503, 'Partner records cannot be read now; retry later');
  }
  const parsed = parsePartnerRecord(text);
  if ('problem' in parsed) {
    // An operator's mistake, not the caller's: logged for them, and answered as no record (nothing is revealed).
    logger.error('Partner record is malformed; the client is refused', { parameter: name, problem: parsed.problem });
    return { absent: true };
  }
  return parsed;
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
    const read = await readRecord(partnerRecordName(recordPath, caller.clientId), forceFetch);
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
