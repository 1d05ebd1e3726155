import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CreatedClient } from '../../identity/client-registry.js';
import { postToken, startTestPool, TIRE_READ, TIRE_WRITE, type TestPool } from '../identity/helpers.js';
import { loadFamilies, printCounts } from './fixtures.js';

/**
 * Cognito's token endpoint (POST /oauth2/token) against AWS's answers: the documented client-credentials requests
 * and the error codes of the "Token endpoint" page, each case sent over HTTP to a real local authorization server
 * (the one `npm start` runs for each company); an error must be Cognito's documented answer exactly (status, content
 * type and `{"error": ...}` body). `$CLIENT_ID` / `$CLIENT_SECRET` stand for a registered client
 * allowed tire-orders/orders.write and tire-orders/orders.read; `$WRONG_SECRET` for a secret it does not have.
 */

const credentials = z.object({ clientId: z.string(), clientSecret: z.string() });
const caseSchema = z.object({
  name: z.string(),
  source: z.string(),
  request: z.object({
    basic: credentials.optional(),
    form: z.record(z.string(), z.string()).optional(),
    rawBody: z.string().optional(),
    contentType: z.string().optional(),
  }),
  expected: z.union([
    z.object({ status: z.literal(200), scope: z.string() }),
    z.object({
      status: z.number().int().min(400),
      error: z.enum([
        'invalid_request',
        'invalid_client',
        'invalid_grant',
        'unauthorized_client',
        'unsupported_grant_type',
        'invalid_scope',
      ]),
    }),
  ]),
});
type Case = z.infer<typeof caseSchema>;

const families = loadFamilies('token-endpoint', caseSchema);
const counts = new Map<string, { passed: number; total: number }>();
let pool: TestPool;
let client: CreatedClient;

beforeAll(async () => {
  pool = await startTestPool();
  client = await pool.server.createClient({ name: 'conformance', scopes: [TIRE_WRITE, TIRE_READ] });
});

afterAll(async () => {
  await pool.cleanup();
  printCounts('token-endpoint', counts);
});

function substitute(text: string): string {
  return text
    .replaceAll('$CLIENT_ID', client.clientId)
    .replaceAll('$CLIENT_SECRET', client.clientSecret)
    .replaceAll('$WRONG_SECRET', `${client.clientSecret.slice(0, -1)}${client.clientSecret.endsWith('A') ? 'B' : 'A'}`);
}

async function check({ request, expected }: Case): Promise<void> {
  const form = request.form && Object.fromEntries(Object.entries(request.form).map(([k, v]) => [k, substitute(v)]));
  const response = await postToken(pool.server.tokenUrl, {
    ...(request.basic
      ? {
          basic: { clientId: substitute(request.basic.clientId), clientSecret: substitute(request.basic.clientSecret) },
        }
      : {}),
    ...(form ? { form } : {}),
    ...(request.rawBody !== undefined ? { rawBody: substitute(request.rawBody) } : {}),
    ...(request.contentType !== undefined ? { contentType: request.contentType } : {}),
  });
  if ('scope' in expected) {
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.token_type).toBe('Bearer');
    expect(decodeJwt(response.body.access_token as string).scope).toBe(expected.scope);
    return;
  }
  // Cognito's documented error answer, exactly: the status, its JSON content type, `error` and nothing else.
  expect(response.status).toBe(expected.status);
  expect(response.headers.get('content-type')).toBe('application/json;charset=UTF-8');
  expect(response.body).toEqual({ error: expected.error });
  expect(response.headers.get('www-authenticate')).toBeNull();
}

describe.each(families)('token-endpoint conformance: $family', ({ family, cases }) => {
  counts.set(family, { passed: 0, total: cases.length });
  it.each(cases)('$name', async (testCase) => {
    await check(testCase);
    (counts.get(family) as { passed: number }).passed++;
  });
});
