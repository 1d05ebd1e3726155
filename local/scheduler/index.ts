export {
  SCHEDULE_EXPRESSION_NOT_VALID,
  ScheduleExpressionError,
  matchingDays,
  nextCronTime,
  nextFireTime,
  parseScheduleExpression,
  type CronSchedule,
  type DayOfMonthRule,
  type DayOfWeekRule,
  type ParsedSchedule,
  type RateSchedule,
  type RateUnit,
} from './expression.js';
export {
  LocalScheduler,
  lambdaScheduleTarget,
  type LocalSchedulerOptions,
  type ScheduleRunResult,
  type ScheduleStatus,
  type ScheduleTarget,
} from './scheduler.js';
