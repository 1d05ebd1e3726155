import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  GATEWAY_RESPONSES,
  customisedGatewayResponse,
  gatewayResponse,
  type GatewayResponse,
  type GatewayResponseCustomisations,
  type GatewayResponseType,
} from '../../gateway/gateway-responses.js';
import { loadFamilies, printCounts } from './fixtures.js';

/**
 * API Gateway's gateway responses against AWS's answers: the default status code of each response type the local
 * gateway produces ("Gateway response types for API Gateway"), the default `{"message": ...}` body and the
 * x-amzn-ErrorType header where AWS quotes them, and the documented customisation rules (a type's own
 * customisation, else DEFAULT_4XX / DEFAULT_5XX by status class, whose status code overrides the class's).
 * Every case runs through gatewayResponse / customisedGatewayResponse, which the local gateway renders with.
 */

const responseType = z.enum(Object.keys(GATEWAY_RESPONSES) as [GatewayResponseType, ...GatewayResponseType[]]);
const customisation = z.object({
  statusCode: z.number().int().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  template: z.string(),
});
const caseSchema = z.union([
  // The customised form first: the default form would also accept it, dropping its customisations.
  z.object({
    name: z.string(),
    source: z.string(),
    type: responseType,
    customisations: z.partialRecord(z.enum([...responseType.options, 'DEFAULT_4XX', 'DEFAULT_5XX']), customisation),
    status: z.number().int(),
    body: z.record(z.string(), z.unknown()).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    absentHeaders: z.array(z.string()).optional(),
  }),
  z.object({
    name: z.string(),
    source: z.string(),
    type: responseType,
    status: z.number().int(),
    errorType: z.string().optional(),
    /** Asserted only where AWS quotes it. */
    message: z.string().optional(),
  }),
]);
type Case = z.infer<typeof caseSchema>;

const families = loadFamilies('gateway-responses', caseSchema);
const counts = new Map<string, { passed: number; total: number }>();

function header(response: GatewayResponse, name: string): string | undefined {
  return Object.entries(response.headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}

function check(testCase: Case): void {
  if (!('customisations' in testCase)) {
    const response = gatewayResponse(testCase.type);
    expect(response.status).toBe(testCase.status);
    if (testCase.errorType !== undefined) expect(header(response, 'x-amzn-ErrorType')).toBe(testCase.errorType);
    if (testCase.message !== undefined) expect(JSON.parse(response.body)).toEqual({ message: testCase.message });
    return;
  }
  const response = customisedGatewayResponse(
    testCase.type,
    undefined,
    { requestId: 'c0ffee00-0000-4000-8000-000000000000' },
    testCase.customisations as GatewayResponseCustomisations,
  );
  expect(response.status).toBe(testCase.status);
  if (testCase.body !== undefined) expect(JSON.parse(response.body)).toEqual(testCase.body);
  for (const [name, value] of Object.entries(testCase.headers ?? {})) expect(header(response, name)).toBe(value);
  for (const name of testCase.absentHeaders ?? []) expect(header(response, name)).toBeUndefined();
}

describe.each(families)('gateway-responses conformance: $family', ({ family, cases }) => {
  counts.set(family, { passed: 0, total: cases.length });
  it.each(cases)('$name', (testCase) => {
    check(testCase);
    (counts.get(family) as { passed: number }).passed++;
  });
});

afterAll(() => printCounts('gateway-responses', counts));
