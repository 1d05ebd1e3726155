import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ScheduleExpressionError, nextFireTime, parseScheduleExpression } from '../../scheduler/index.js';
import { loadFamilies, printCounts } from './fixtures.js';

/**
 * EventBridge rule and EventBridge Scheduler schedule expressions against AWS's answers: the rate() and cron()
 * examples of AWS's docs with their next fire times, and expressions AWS refuses. Every case runs through
 * parseScheduleExpression and nextFireTime, which the local scheduler uses.
 */

const caseSchema = z.union([
  z.object({
    name: z.string(),
    source: z.string(),
    expression: z.string(),
    valid: z.literal(true),
    kind: z.enum(['rate', 'cron']),
    startedAt: z.string().optional(),
    next: z.array(z.object({ after: z.string(), expected: z.string().nullable() })).optional(),
  }),
  z.object({
    name: z.string(),
    source: z.string(),
    expression: z.string(),
    error: z.literal('ValidationException'),
    message: z.string(),
  }),
]);
type Case = z.infer<typeof caseSchema>;

const families = loadFamilies('schedule-expression', caseSchema);
const counts = new Map<string, { passed: number; total: number }>();
const iso = (time: number | undefined) => (time === undefined ? null : new Date(time).toISOString());

function check(testCase: Case): void {
  if ('error' in testCase) {
    let error: unknown;
    try {
      parseScheduleExpression(testCase.expression);
    } catch (caught) {
      error = caught;
    }
    expect(error, 'AWS answers ValidationException').toBeInstanceOf(ScheduleExpressionError);
    expect((error as ScheduleExpressionError).type).toBe(testCase.error);
    expect((error as Error).message.startsWith(testCase.message)).toBe(true);
    return;
  }
  const schedule = parseScheduleExpression(testCase.expression);
  expect(schedule.kind).toBe(testCase.kind);
  const startedAt = testCase.startedAt === undefined ? 0 : Date.parse(testCase.startedAt);
  const fireTimes = (testCase.next ?? []).map(({ after }) => iso(nextFireTime(schedule, Date.parse(after), startedAt)));
  expect(fireTimes).toEqual((testCase.next ?? []).map(({ expected }) => expected));
}

describe.each(families)('schedule-expression conformance: $family', ({ family, cases }) => {
  counts.set(family, { passed: 0, total: cases.length });
  it.each(cases)('$name: $expression', (testCase) => {
    check(testCase);
    (counts.get(family) as { passed: number }).passed++;
  });
});

afterAll(() => {
  printCounts('schedule-expression', counts);
  const fireTimes = families
    .flatMap((f) => f.cases)
    .reduce((sum, c) => sum + ('next' in c ? (c.next?.length ?? 0) : 0), 0);
  console.log(`conformance schedule-expression: ${fireTimes} next fire times checked`);
});
