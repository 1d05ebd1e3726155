import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { ScheduleDeclaration } from '../declarations.js';

export interface DeclaredSchedulesProps<F extends string> {
  schedules: readonly ScheduleDeclaration<F>[];
  functions: Record<F, lambda.IFunction>;
}

/** One EventBridge rule per declared schedule, with the declared expression, invoking the declared function. */
export class DeclaredSchedules<F extends string> extends Construct {
  readonly rules = new Map<string, events.Rule>();

  constructor(scope: Construct, id: string, props: DeclaredSchedulesProps<F>) {
    super(scope, id);
    for (const schedule of props.schedules) {
      const rule = new events.Rule(this, schedule.name, {
        description: schedule.description,
        schedule: events.Schedule.expression(schedule.expression),
        targets: [
          new targets.LambdaFunction(props.functions[schedule.function], {
            // A missed run is picked up by the next one; stale invocations are not worth replaying.
            retryAttempts: 2,
            maxEventAge: Duration.minutes(5),
          }),
        ],
      });
      this.rules.set(schedule.name, rule);
    }
  }
}
