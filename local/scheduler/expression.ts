/**
 * EventBridge schedule expressions, as documented in "Cron expressions reference" and "Rate expressions
 * reference" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html):
 *
 *   rate(value unit)  value a positive integer; unit minute | minutes | hour | hours | day | days, singular
 *                     exactly when value is 1.
 *   cron(Minutes Hours Day-of-month Month Day-of-week Year), six fields separated by white space, in UTC:
 *     Minutes       0-59                 , - * /
 *     Hours         0-23                 , - * /
 *     Day-of-month  1-31                 , - * ? / L W
 *     Month         1-12 or JAN-DEC      , - * /
 *     Day-of-week   1-7 or SUN-SAT       , - * ? L #      (1 = SUN)
 *     Year          1970-2199            , - * /
 *   One of Day-of-month and Day-of-week must be ? (and not both).
 *
 * Where the documentation is silent this follows Quartz, whose syntax EventBridge's is: a/n starts at a,
 * a-b/n steps through a range, a range whose start is above its end wraps around (the docs' own example
 * `0/30 20-2 ? * MON-FRI *`), names are case-insensitive, and L, LW, nW, dL and d#k stand alone in their
 * field (the docs require that of #). `L` alone in Day-of-week is its last day, 7 (SAT). Quartz's L-n offset
 * is not documented for EventBridge and is refused.
 */

/** AWS's message for an invalid schedule expression (PutRule answers exactly this, with ValidationException). */
export const SCHEDULE_EXPRESSION_NOT_VALID = 'Parameter ScheduleExpression is not valid.';

export class ScheduleExpressionError extends Error {
  constructor(
    readonly expression: string,
    reason: string,
  ) {
    super(`${SCHEDULE_EXPRESSION_NOT_VALID} Reason: ${reason} (in '${expression}')`);
    this.name = 'ScheduleExpressionError';
  }

  /** The error type EventBridge (PutRule) and EventBridge Scheduler (CreateSchedule) answer with. */
  readonly type = 'ValidationException';
}

export type RateUnit = 'minute' | 'minutes' | 'hour' | 'hours' | 'day' | 'days';

export interface RateSchedule {
  kind: 'rate';
  expression: string;
  value: number;
  unit: RateUnit;
  periodMs: number;
}

/** Day-of-month: plain values, or one of the special forms. */
export type DayOfMonthRule =
  | { kind: 'any' }
  | { kind: 'days'; days: ReadonlySet<number> }
  | { kind: 'last' }
  | { kind: 'lastWeekday' }
  | { kind: 'nearestWeekday'; day: number };

/** Day-of-week (1 = SUN ... 7 = SAT): plain values, or one of the special forms. */
export type DayOfWeekRule =
  | { kind: 'any' }
  | { kind: 'days'; days: ReadonlySet<number> }
  | { kind: 'lastOfMonth'; day: number }
  | { kind: 'nth'; day: number; nth: number };

export interface CronSchedule {
  kind: 'cron';
  expression: string;
  minutes: readonly number[];
  hours: readonly number[];
  dayOfMonth: DayOfMonthRule;
  months: readonly number[];
  dayOfWeek: DayOfWeekRule;
  years: readonly number[];
}

export type ParsedSchedule = RateSchedule | CronSchedule;

const MINUTE_MS = 60_000;
const UNIT_MS: Record<RateUnit, number> = {
  minute: MINUTE_MS,
  minutes: MINUTE_MS,
  hour: 60 * MINUTE_MS,
  hours: 60 * MINUTE_MS,
  day: 24 * 60 * MINUTE_MS,
  days: 24 * 60 * MINUTE_MS,
};

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  label: string;
  min: number;
  max: number;
  /** Names for min, min+1, ... (months and days of the week). */
  names?: readonly string[];
  /** Wildcards allowed besides digits and names. */
  wildcards: string;
}

const FIELDS = {
  minutes: { label: 'Minutes', min: 0, max: 59, wildcards: ',-*/' },
  hours: { label: 'Hours', min: 0, max: 23, wildcards: ',-*/' },
  dayOfMonth: { label: 'Day-of-month', min: 1, max: 31, wildcards: ',-*?/LW' },
  month: { label: 'Month', min: 1, max: 12, names: MONTH_NAMES, wildcards: ',-*/' },
  dayOfWeek: { label: 'Day-of-week', min: 1, max: 7, names: DAY_NAMES, wildcards: ',-*?L#' },
  year: { label: 'Year', min: 1970, max: 2199, wildcards: ',-*/' },
} satisfies Record<string, FieldSpec>;

export function parseScheduleExpression(expression: string): ParsedSchedule {
  if (expression.startsWith('rate(')) return parseRate(expression);
  if (expression.startsWith('cron(')) return parseCron(expression);
  throw new ScheduleExpressionError(expression, 'expected rate(value unit) or cron(fields)');
}

function parseRate(expression: string): RateSchedule {
  const match = /^rate\((\S+) (\S+)\)$/.exec(expression);
  if (!match) throw new ScheduleExpressionError(expression, 'a rate expression is rate(value unit)');
  const [, valueText = '', unitText = ''] = match;
  if (!/^\d+$/.test(valueText) || Number(valueText) < 1) {
    throw new ScheduleExpressionError(expression, `the value must be a positive integer, not '${valueText}'`);
  }
  if (!(unitText in UNIT_MS)) {
    throw new ScheduleExpressionError(expression, `the unit must be minute | minutes | hour | hours | day | days`);
  }
  const value = Number(valueText);
  const unit = unitText as RateUnit;
  const singular = !unit.endsWith('s');
  if (value === 1 && !singular) throw new ScheduleExpressionError(expression, `a value of 1 takes a singular unit`);
  if (value > 1 && singular) throw new ScheduleExpressionError(expression, `a value above 1 takes a plural unit`);
  return { kind: 'rate', expression, value, unit, periodMs: value * UNIT_MS[unit] };
}

function parseCron(expression: string): CronSchedule {
  const match = /^cron\((.*)\)$/.exec(expression);
  if (!match) throw new ScheduleExpressionError(expression, 'a cron expression is cron(fields)');
  const body = match[1]?.trim() ?? '';
  // Names and the L / W wildcards are case-insensitive, as in Quartz.
  const fields = body === '' ? [] : body.toUpperCase().split(/\s+/);
  if (fields.length !== 6) {
    throw new ScheduleExpressionError(expression, `a cron expression has six fields, found ${fields.length}`);
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const fail = (reason: string): never => {
    throw new ScheduleExpressionError(expression, reason);
  };
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    fail('exactly one of Day-of-month and Day-of-week must be ? (a value or * in one needs ? in the other)');
  }
  return {
    kind: 'cron',
    expression,
    minutes: [...parseList(minutes, FIELDS.minutes, fail)].sort((a, b) => a - b),
    hours: [...parseList(hours, FIELDS.hours, fail)].sort((a, b) => a - b),
    dayOfMonth: parseDayOfMonth(dayOfMonth, fail),
    months: [...parseList(month, FIELDS.month, fail)].sort((a, b) => a - b),
    dayOfWeek: parseDayOfWeek(dayOfWeek, fail),
    years: [...parseList(year, FIELDS.year, fail)].sort((a, b) => a - b),
  };
}

function checkCharacters(text: string, spec: FieldSpec, fail: (reason: string) => never): void {
  for (const character of text) {
    if (/[0-9A-Z]/.test(character)) continue;
    if (!spec.wildcards.includes(character)) {
      fail(`${spec.label} does not allow '${character}' (allowed wildcards: ${spec.wildcards.split('').join(' ')})`);
    }
  }
}

function parseValue(text: string, spec: FieldSpec, fail: (reason: string) => never): number {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < spec.min || value > spec.max) fail(`${spec.label} value ${text} is outside ${spec.min}-${spec.max}`);
    return value;
  }
  const index = spec.names?.indexOf(text) ?? -1;
  if (index === -1) fail(`'${text}' is not a ${spec.label} value`);
  return spec.min + index;
}

/** Values from start to end (wrapping past max back to min when start > end), every step-th. */
function walk(start: number, end: number, step: number, spec: FieldSpec): number[] {
  const size = spec.max - spec.min + 1;
  const span = (end - start + size) % size;
  const values: number[] = [];
  for (let offset = 0; offset <= span; offset += step) values.push(((start - spec.min + offset) % size) + spec.min);
  return values;
}

/** The plain syntax every field shares: lists of *, a, a-b, each optionally /step. */
function parseList(text: string, spec: FieldSpec, fail: (reason: string) => never): Set<number> {
  checkCharacters(text, spec, fail);
  const values = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') fail(`${spec.label} has an empty list item`);
    const [range = '', stepText, extra] = item.split('/');
    if (extra !== undefined) fail(`${spec.label} item '${item}' has more than one /`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1)
        fail(`${spec.label} increment in '${item}' must be a positive integer`);
      step = Number(stepText);
    }
    let start: number;
    let end: number;
    if (range === '*') {
      [start, end] = [spec.min, spec.max];
    } else if (range.includes('-')) {
      const [from = '', to = '', more] = range.split('-');
      if (more !== undefined || from === '' || to === '') fail(`${spec.label} range '${range}' is not a-b`);
      [start, end] = [parseValue(from, spec, fail), parseValue(to, spec, fail)];
    } else {
      start = parseValue(range, spec, fail);
      // a/n runs from a to the end of the field; a alone is just a.
      end = stepText !== undefined ? spec.max : start;
      if (stepText !== undefined && start > end) fail(`${spec.label} '${item}' starts past the field's end`);
    }
    for (const value of walk(start, end, step, spec)) values.add(value);
  }
  return values;
}

function parseDayOfMonth(text: string, fail: (reason: string) => never): DayOfMonthRule {
  if (text === '?') return { kind: 'any' };
  if (text === 'L') return { kind: 'last' };
  if (text === 'LW') return { kind: 'lastWeekday' };
  const weekday = /^(\d+)W$/.exec(text);
  if (weekday) return { kind: 'nearestWeekday', day: parseValue(weekday[1] ?? '', FIELDS.dayOfMonth, fail) };
  if (/[?LW]/.test(text)) fail(`Day-of-month '${text}': ?, L, LW and nW stand alone in the field`);
  return { kind: 'days', days: parseList(text, FIELDS.dayOfMonth, fail) };
}

function parseDayOfWeek(text: string, fail: (reason: string) => never): DayOfWeekRule {
  if (text === '?') return { kind: 'any' };
  if (text === 'L') return { kind: 'days', days: new Set([7]) };
  const last = /^([0-9A-Z]+)L$/.exec(text);
  if (last) return { kind: 'lastOfMonth', day: parseValue(last[1] ?? '', FIELDS.dayOfWeek, fail) };
  const nth = /^([0-9A-Z]+)#(\d+)$/.exec(text);
  if (nth) {
    const occurrence = Number(nth[2]);
    if (occurrence < 1 || occurrence > 5) fail(`Day-of-week '${text}': the instance after # must be 1-5`);
    return { kind: 'nth', day: parseValue(nth[1] ?? '', FIELDS.dayOfWeek, fail), nth: occurrence };
  }
  if (text.includes('#')) fail(`Day-of-week '${text}': with #, the field holds exactly one d#n expression`);
  // No day name contains an L, so any L left is a misplaced wildcard.
  if (/[?L]/.test(text)) fail(`Day-of-week '${text}': ?, L, dL and d#n stand alone in the field`);
  return { kind: 'days', days: parseList(text, FIELDS.dayOfWeek, fail) };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 1 = SUN ... 7 = SAT, as the Day-of-week field counts. */
function dayOfWeekOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

function isWeekday(year: number, month: number, day: number): boolean {
  const dow = dayOfWeekOf(year, month, day);
  return dow >= 2 && dow <= 6;
}

/** The weekday nearest `day` without leaving the month (Quartz's nW: 1W on a Saturday is Monday the 3rd). */
function nearestWeekday(year: number, month: number, day: number): number | undefined {
  const last = daysInMonth(year, month);
  if (day > last) return undefined;
  const dow = dayOfWeekOf(year, month, day);
  if (dow === 7) return day === 1 ? 3 : day - 1; // Saturday: Friday before, or Monday after the 1st
  if (dow === 1) return day === last ? day - 2 : day + 1; // Sunday: Monday after, or Friday before the last
  return day;
}

/** The days of one month the day-of-month and day-of-week rules select, ascending. */
export function matchingDays(
  schedule: Pick<CronSchedule, 'dayOfMonth' | 'dayOfWeek'>,
  year: number,
  month: number,
): number[] {
  const last = daysInMonth(year, month);
  const all = Array.from({ length: last }, (_, index) => index + 1);
  const { dayOfMonth, dayOfWeek } = schedule;
  switch (dayOfMonth.kind) {
    case 'days':
      return all.filter((day) => dayOfMonth.days.has(day));
    case 'last':
      return [last];
    case 'lastWeekday':
      return [all.filter((day) => isWeekday(year, month, day)).at(-1) ?? last];
    case 'nearestWeekday': {
      const day = nearestWeekday(year, month, dayOfMonth.day);
      return day === undefined ? [] : [day];
    }
    case 'any':
      break;
  }
  const ofWeekday = (weekday: number) => all.filter((day) => dayOfWeekOf(year, month, day) === weekday);
  switch (dayOfWeek.kind) {
    case 'days':
      return all.filter((day) => dayOfWeek.days.has(dayOfWeekOf(year, month, day)));
    case 'lastOfMonth':
      return ofWeekday(dayOfWeek.day).slice(-1);
    case 'nth': {
      const day = ofWeekday(dayOfWeek.day)[dayOfWeek.nth - 1];
      return day === undefined ? [] : [day];
    }
    case 'any':
      return all; // unreachable: the parser refuses ? in both fields
  }
}

/** The first time strictly after `after` (epoch ms) that the cron expression selects, or undefined if none. */
export function nextCronTime(schedule: CronSchedule, after: number): number | undefined {
  // Cron fires on whole minutes: start at the first whole minute after `after`.
  const start = new Date(Math.floor(after / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
  const [y0, mo0, d0, h0, mi0] = [
    start.getUTCFullYear(),
    start.getUTCMonth() + 1,
    start.getUTCDate(),
    start.getUTCHours(),
    start.getUTCMinutes(),
  ];
  for (const year of schedule.years) {
    if (year < y0) continue;
    const sameYear = year === y0;
    for (const month of schedule.months) {
      if (sameYear && month < mo0) continue;
      const sameMonth = sameYear && month === mo0;
      for (const day of matchingDays(schedule, year, month)) {
        if (sameMonth && day < d0) continue;
        const sameDay = sameMonth && day === d0;
        for (const hour of schedule.hours) {
          if (sameDay && hour < h0) continue;
          const sameHour = sameDay && hour === h0;
          for (const minute of schedule.minutes) {
            if (sameHour && minute < mi0) continue;
            return Date.UTC(year, month - 1, day, hour, minute);
          }
        }
      }
    }
  }
  return undefined;
}

/**
 * The next time a schedule fires strictly after `after`. A rate fires every period from `startedAt` (the rule's
 * creation: EventBridge starts a rate when the rule is created), never at `startedAt` itself.
 */
export function nextFireTime(schedule: ParsedSchedule, after: number, startedAt: number): number | undefined {
  if (schedule.kind === 'cron') return nextCronTime(schedule, after);
  const periods = Math.max(0, Math.floor((after - startedAt) / schedule.periodMs)) + 1;
  return startedAt + periods * schedule.periodMs;
}
