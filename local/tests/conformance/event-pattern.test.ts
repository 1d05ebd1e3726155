import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EventPattern, InvalidEventPatternError } from '../../aws/eventbridge/event-pattern.js';
import { wildcardComplexity } from '../../aws/eventbridge/wildcard.js';
import { loadFamilies, printCounts } from './fixtures.js';

/**
 * EventBridge event patterns against AWS's answers: cases transcribed from aws/event-ruler's tests (the library
 * EventBridge is built on) and from the EventBridge user guide, each naming its source. Every case runs through
 * EventPattern, the matcher and validator the local bus uses for rules, archives and TestEventPattern.
 */

const patternSource = { pattern: z.record(z.string(), z.unknown()).optional(), patternText: z.string().optional() };
const caseSchema = z.union([
  z.object({ name: z.string(), source: z.string(), ...patternSource, event: z.unknown(), match: z.boolean() }),
  z.object({
    name: z.string(),
    source: z.string(),
    ...patternSource,
    error: z.literal('InvalidEventPatternException'),
    message: z.string().optional(),
  }),
  z.object({ name: z.string(), source: z.string(), ...patternSource, valid: z.literal(true) }),
  z.object({ name: z.string(), source: z.string(), wildcards: z.array(z.string()), complexity: z.number() }),
]);
type Case = z.infer<typeof caseSchema>;

const families = loadFamilies('event-pattern', caseSchema);
const counts = new Map<string, { passed: number; total: number }>();

function compile(testCase: { pattern?: object; patternText?: string }): EventPattern {
  if (testCase.patternText !== undefined) return EventPattern.compile(testCase.patternText);
  if (testCase.pattern !== undefined) return EventPattern.compile(testCase.pattern);
  throw new Error('fixture has neither pattern nor patternText');
}

function check(testCase: Case): void {
  if ('complexity' in testCase) {
    expect(wildcardComplexity(testCase.wildcards)).toBe(testCase.complexity);
  } else if ('match' in testCase) {
    expect(compile(testCase).matches(testCase.event)).toBe(testCase.match);
  } else if ('valid' in testCase) {
    expect(() => compile(testCase)).not.toThrow();
  } else {
    let error: unknown;
    try {
      compile(testCase);
    } catch (caught) {
      error = caught;
    }
    expect(error, 'AWS answers InvalidEventPatternException').toBeInstanceOf(InvalidEventPatternError);
    expect((error as InvalidEventPatternError).type).toBe(testCase.error);
    // Only messages AWS itself quotes are asserted; the rest of our wording is ours.
    if (testCase.message)
      expect((error as Error).message).toContain(`Event pattern is not valid. Reason: ${testCase.message}`);
  }
}

describe.each(families)('event-pattern conformance: $family', ({ family, cases }) => {
  counts.set(family, { passed: 0, total: cases.length });
  it.each(cases)('$name', (testCase) => {
    check(testCase);
    (counts.get(family) as { passed: number }).passed++;
  });
});

afterAll(() => printCounts('event-pattern', counts));
