import { describe, expect, it } from 'vitest';
import {
  ScheduleExpressionError,
  nextCronTime,
  nextFireTime,
  parseScheduleExpression,
  type CronSchedule,
} from '../../scheduler/index.js';

const MINUTE = 60_000;
const at = (iso: string) => Date.parse(iso);
const iso = (time: number | undefined) => (time === undefined ? undefined : new Date(time).toISOString());

function cron(expression: string): CronSchedule {
  const parsed = parseScheduleExpression(expression);
  if (parsed.kind !== 'cron') throw new Error('expected a cron schedule');
  return parsed;
}

describe('rate expressions', () => {
  it.each([
    ['rate(1 minute)', 1, 'minute', MINUTE],
    ['rate(5 minutes)', 5, 'minutes', 5 * MINUTE],
    ['rate(1 hour)', 1, 'hour', 60 * MINUTE],
    ['rate(2 hours)', 2, 'hours', 120 * MINUTE],
    ['rate(1 day)', 1, 'day', 24 * 60 * MINUTE],
    ['rate(7 days)', 7, 'days', 7 * 24 * 60 * MINUTE],
  ])('%s is valid', (expression, value, unit, periodMs) => {
    expect(parseScheduleExpression(expression)).toEqual({ kind: 'rate', expression, value, unit, periodMs });
  });

  it.each([
    ['rate(1 hours)', /value of 1 takes a singular unit/],
    ['rate(5 hour)', /value above 1 takes a plural unit/],
    ['rate(1 minutes)', /singular/],
    ['rate(5 minute)', /plural/],
    ['rate(0 minutes)', /positive integer/],
    ['rate(-1 minutes)', /positive integer/],
    ['rate(1.5 minutes)', /positive integer/],
    ['rate(5 seconds)', /unit must be minute \| minutes \| hour \| hours \| day \| days/],
    ['rate(5 Minutes)', /unit must be/],
    ['rate(5minutes)', /rate\(value unit\)/],
    ['rate(5  minutes)', /rate\(value unit\)/],
    ['rate( 5 minutes)', /rate\(value unit\)/],
    ['rate(minutes)', /rate\(value unit\)/],
    ['rate 5 minutes', /expected rate\(value unit\) or cron\(fields\)/],
    ['every 5 minutes', /expected rate/],
    ['', /expected rate/],
  ])('%s is refused', (expression, reason) => {
    expect(() => parseScheduleExpression(expression)).toThrow(ScheduleExpressionError);
    expect(() => parseScheduleExpression(expression)).toThrow(reason);
  });
});

describe('cron expressions', () => {
  // The examples of the EventBridge cron expressions reference, and the wildcard examples in its text.
  it.each([
    'cron(0 10 * * ? *)',
    'cron(15 12 * * ? *)',
    'cron(0 18 ? * MON-FRI *)',
    'cron(0 8 1 * ? *)',
    'cron(0/15 * * * ? *)',
    'cron(0/10 * ? * MON-FRI *)',
    'cron(0/5 8-17 ? * MON-FRI *)',
    'cron(0/30 20-2 ? * MON-FRI *)',
    'cron(0 9 ? * 2#1 *)',
    'cron(1/10 * * JAN,FEB,MAR ? *)',
    'cron(0 0 1-15 * ? *)',
    'cron(0 0 L * ? *)',
    'cron(0 0 3W * ? *)',
    'cron(0 0 LW * ? *)',
    'cron(0 0 ? * 3#2 *)',
    'cron(0 0 ? * L *)',
    'cron(0 0 ? * 6L *)',
    'cron(0 0 ? * FRIL *)',
    'cron(0 0 1 1 ? 2030-2035)',
    'cron(0 0 ? * mon-fri *)',
  ])('%s is valid', (expression) => {
    expect(parseScheduleExpression(expression).kind).toBe('cron');
  });

  it.each([
    ['cron(0 10 * * * *)', /exactly one of Day-of-month and Day-of-week must be \?/],
    ['cron(0 10 1 * MON *)', /exactly one of Day-of-month and Day-of-week/],
    ['cron(0 10 ? * ? *)', /exactly one of Day-of-month and Day-of-week/],
    ['cron(0 10 * * ?)', /six fields, found 5/],
    ['cron(0 0 10 * * ? *)', /six fields, found 7/],
    ['cron()', /six fields, found 0/],
    ['cron(60 10 * * ? *)', /Minutes value 60 is outside 0-59/],
    ['cron(0 24 * * ? *)', /Hours value 24 is outside 0-23/],
    ['cron(0 0 32 * ? *)', /Day-of-month value 32 is outside 1-31/],
    ['cron(0 0 0 * ? *)', /Day-of-month value 0 is outside 1-31/],
    ['cron(0 0 ? 13 MON *)', /Month value 13 is outside 1-12/],
    ['cron(0 0 ? * 8 *)', /Day-of-week value 8 is outside 1-7/],
    ['cron(0 0 ? * 0 *)', /Day-of-week value 0 is outside 1-7/],
    ['cron(0 0 1 1 ? 1969)', /Year value 1969 is outside 1970-2199/],
    ['cron(0 0 1 1 ? 2200)', /Year value 2200 is outside 1970-2199/],
    ['cron(0 0 ? * 3#1,6#3 *)', /exactly one d#n expression/],
    ['cron(0 0 ? * 2#6 *)', /instance after # must be 1-5/],
    ['cron(L 0 * * ? *)', /'L' is not a Minutes value/],
    ['cron(0 0 ? * MON/2 *)', /Day-of-week does not allow '\/'/],
    ['cron(0 0 1 * ? 2030#1)', /Year does not allow '#'/],
    ['cron(0 0 ? * MON W)', /'W' is not a Year value/],
    ['cron(0 0 15W,L * ? *)', /stand alone/],
    ['cron(0 0 ? * 6L,2 *)', /stand alone/],
    ['cron(0 0 L-2 * ? *)', /stand alone/],
    ['cron(0 0 1- * ? *)', /range '1-' is not a-b/],
    ['cron(0/0 * * * ? *)', /increment in '0\/0' must be a positive integer/],
    ['cron(0 0 1 FOO ? *)', /'FOO' is not a Month value/],
    ['cron(0 0 ? * FUNDAY *)', /'FUNDAY' is not a Day-of-week value/],
    ['cron(0,,5 * * * ? *)', /empty list item/],
    ['cron(0 0 1 * ? *', /a cron expression is cron\(fields\)/],
  ])('%s is refused', (expression, reason) => {
    expect(() => parseScheduleExpression(expression)).toThrow(reason);
  });

  it('expands lists, ranges, increments, wrapping ranges and names', () => {
    expect(cron('cron(0/15 * * * ? *)').minutes).toEqual([0, 15, 30, 45]);
    expect(cron('cron(1/10 * * * ? *)').minutes).toEqual([1, 11, 21, 31, 41, 51]);
    expect(cron('cron(10-30/10 * * * ? *)').minutes).toEqual([10, 20, 30]);
    expect(cron('cron(0 20-2 ? * MON-FRI *)').hours).toEqual([0, 1, 2, 20, 21, 22, 23]);
    expect(cron('cron(0 0 1 JAN,FEB,MAR ? *)').months).toEqual([1, 2, 3]);
    expect(cron('cron(0 0 1 NOV-FEB ? *)').months).toEqual([1, 2, 11, 12]);
    expect(cron('cron(0 0 ? * MON-FRI *)').dayOfWeek).toEqual({ kind: 'days', days: new Set([2, 3, 4, 5, 6]) });
    expect(cron('cron(0 0 ? * FRI-MON *)').dayOfWeek).toEqual({ kind: 'days', days: new Set([6, 7, 1, 2]) });
    expect(cron('cron(0 0 1 * ? 2030/5)').years.slice(0, 3)).toEqual([2030, 2035, 2040]);
  });
});

describe('next fire time (UTC)', () => {
  it.each([
    // Plain fields; strictly after the given time.
    ['cron(0 10 * * ? *)', '2030-01-01T09:59:30Z', '2030-01-01T10:00:00.000Z'],
    ['cron(0 10 * * ? *)', '2030-01-01T10:00:00Z', '2030-01-02T10:00:00.000Z'],
    ['cron(0/15 * * * ? *)', '2030-01-01T10:07:30Z', '2030-01-01T10:15:00.000Z'],
    ['cron(0/15 * * * ? *)', '2030-12-31T23:59:00Z', '2031-01-01T00:00:00.000Z'],
    // 2030-01-04 is a Friday: next weekday evening is Monday.
    ['cron(0 18 ? * MON-FRI *)', '2030-01-04T18:00:00Z', '2030-01-07T18:00:00.000Z'],
    // Hours wrapping past midnight, weekdays only: Saturday 00:00 is not a weekday.
    ['cron(0/30 20-2 ? * MON-FRI *)', '2030-01-04T23:59:00Z', '2030-01-07T00:00:00.000Z'],
    ['cron(0/30 20-2 ? * MON-FRI *)', '2030-01-07T02:30:00Z', '2030-01-07T20:00:00.000Z'],
    ['cron(0 0 1 JAN/3 ? *)', '2030-01-01T00:00:00Z', '2030-04-01T00:00:00.000Z'],
    // Day-of-month that only some months have.
    ['cron(0 0 31 * ? *)', '2030-01-31T00:00:00Z', '2030-03-31T00:00:00.000Z'],
    ['cron(0 0 29 2 ? *)', '2030-01-01T00:00:00Z', '2032-02-29T00:00:00.000Z'],
    // L: last day of the month (leap years included).
    ['cron(0 12 L * ? *)', '2030-02-10T00:00:00Z', '2030-02-28T12:00:00.000Z'],
    ['cron(0 12 L 2 ? *)', '2031-03-01T00:00:00Z', '2032-02-29T12:00:00.000Z'],
    // LW: last weekday; 2030-03-31 is a Sunday.
    ['cron(0 12 LW * ? *)', '2030-03-01T00:00:00Z', '2030-03-29T12:00:00.000Z'],
    // nW: nearest weekday without leaving the month.
    ['cron(0 12 1W * ? *)', '2030-05-31T00:00:00Z', '2030-06-03T12:00:00.000Z'], // June 1 Sat -> Mon 3
    ['cron(0 12 1W * ? *)', '2030-08-31T00:00:00Z', '2030-09-02T12:00:00.000Z'], // Sep 1 Sun -> Mon 2
    ['cron(0 12 16W * ? *)', '2030-03-01T00:00:00Z', '2030-03-15T12:00:00.000Z'], // Sat -> Fri
    ['cron(0 12 17W * ? *)', '2030-03-01T00:00:00Z', '2030-03-18T12:00:00.000Z'], // Sun -> Mon
    ['cron(0 12 2W * ? *)', '2030-02-28T00:00:00Z', '2030-03-01T12:00:00.000Z'], // Sat 2 -> Fri 1
    ['cron(0 12 31W * ? *)', '2030-03-01T00:00:00Z', '2030-03-29T12:00:00.000Z'], // Sun 31 (last) -> Fri 29
    ['cron(0 12 30W * ? *)', '2030-02-01T00:00:00Z', '2030-03-29T12:00:00.000Z'], // no Feb 30; Mar 30 Sat -> Fri
    // #: the n-th given weekday of the month.
    ['cron(0 9 ? * 2#1 *)', '2030-01-01T00:00:00Z', '2030-01-07T09:00:00.000Z'],
    ['cron(0 9 ? * MON#1 *)', '2030-01-07T09:00:00Z', '2030-02-04T09:00:00.000Z'],
    ['cron(0 9 ? * 6#5 *)', '2030-01-01T00:00:00Z', '2030-03-29T09:00:00.000Z'], // first month with 5 Fridays
    // dL: the last given weekday; L alone: Saturday, the week's last day.
    ['cron(0 9 ? * 6L *)', '2030-01-01T00:00:00Z', '2030-01-25T09:00:00.000Z'],
    ['cron(0 9 ? * 6L *)', '2030-01-26T00:00:00Z', '2030-02-22T09:00:00.000Z'],
    ['cron(0 9 ? * L *)', '2030-01-01T00:00:00Z', '2030-01-05T09:00:00.000Z'],
    // Years.
    ['cron(0 0 1 1 ? 2031)', '2030-05-05T00:00:00Z', '2031-01-01T00:00:00.000Z'],
    ['cron(0 0 1 1 ? 2031)', '2031-01-01T00:00:00Z', undefined],
  ])('%s after %s is %s', (expression, after, expected) => {
    expect(iso(nextCronTime(cron(expression), at(after)))).toBe(expected);
  });

  it('fires a rate every period from its start, never at the start itself', () => {
    const rate = parseScheduleExpression('rate(5 minutes)');
    const start = at('2030-01-01T10:00:20Z');
    expect(nextFireTime(rate, start, start)).toBe(start + 5 * MINUTE);
    expect(nextFireTime(rate, start + 7 * MINUTE, start)).toBe(start + 10 * MINUTE);
    expect(nextFireTime(rate, start + 10 * MINUTE, start)).toBe(start + 15 * MINUTE);
  });
});
