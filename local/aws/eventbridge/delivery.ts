import type { AuditEntry, AuditLog } from '../../audit.js';
import type { InvocationOutcome } from './api-destination.js';
import {
  BACKOFF_BASE_SECONDS,
  BACKOFF_CAP_SECONDS,
  correlationIdOf,
  type CompiledTarget,
  type EventBridgeEvent,
  type FunctionTarget,
  type Rule,
} from './model.js';

type Outcome = InvocationOutcome;

/**
 * EventBridge reports why a delivery failed in the ERROR_MESSAGE attribute of the dead letter; the endpoint's answer
 * (its problem detail, e.g. "Car order X not found") goes there too, after the status, so an operator sees why.
 */
function withResponseBody(errorMessage: string, responseBody: string | undefined): string {
  return responseBody === undefined ? errorMessage : `${errorMessage} Response body: ${responseBody}`;
}

export interface DeliveryOptions {
  timeScale: number;
  random: () => number;
  audit: AuditLog | undefined;
}

/**
 * Delivery of matched events to rule targets (API destinations and local functions): retries with exponential
 * backoff and jitter under the target's RetryPolicy, then the dead-letter queue with EventBridge's message
 * attributes. Tracks every delivery, retry and replay in flight so the bridge can wait for them or stop them.
 */
export class Delivery {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly timeScale: number;
  private readonly random: () => number;
  private readonly audit: AuditLog | undefined;
  private stopped = false;

  constructor(options: DeliveryOptions) {
    this.timeScale = options.timeScale;
    this.random = options.random;
    this.audit = options.audit;
  }

  get closed(): boolean {
    return this.stopped;
  }

  /** Delivers in the background. */
  schedule(rule: Rule, target: CompiledTarget, event: EventBridgeEvent, receivedAt: number): void {
    this.track(this.deliver(rule, target, event, receivedAt));
  }

  private async deliver(
    rule: Rule,
    target: CompiledTarget,
    event: EventBridgeEvent,
    receivedAt: number,
  ): Promise<void> {
    const correlationId = correlationIdOf(event);
    const replayName = event['replay-name'];
    const common = {
      rule: rule.name,
      eventId: event.id,
      ...(replayName ? { replayName } : {}),
      ...(correlationId ? { correlationId } : {}),
    };
    // PutEvents answers before any target runs, as in AWS.
    await new Promise((resolve) => setImmediate(resolve));
    for (let attempt = 1; ; attempt++) {
      if (this.closed) return;
      const outcome = await this.invoke(target, event);
      const entry = {
        kind: 'delivery' as const,
        ...common,
        attempt,
        url: outcome.url,
        ...(outcome.status ? { status: outcome.status } : {}),
      };
      if (outcome.ok) {
        this.audit?.append({ ...entry, outcome: 'delivered' });
        return;
      }
      const retriesSoFar = attempt - 1;
      let exhausted: 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds' | undefined;
      let delaySeconds = 0;
      // A negative Retry-After means "stop retrying" (user guide, "API destination error codes").
      const final = !outcome.retryable || (outcome.retryAfterSeconds !== undefined && outcome.retryAfterSeconds < 0);
      if (!final) {
        if (retriesSoFar >= target.retryPolicy.maximumRetryAttempts) {
          exhausted = 'MaximumRetryAttempts';
        } else {
          // The more conservative of the backoff and Retry-After.
          delaySeconds = Math.max(this.backoffSeconds(retriesSoFar), outcome.retryAfterSeconds ?? 0);
          const ageSeconds = (Date.now() - receivedAt) / 1000 / this.timeScale;
          if (ageSeconds + delaySeconds > target.retryPolicy.maximumEventAgeSeconds)
            exhausted = 'MaximumEventAgeInSeconds';
        }
      }
      if (final || exhausted) {
        await this.deadLetter(rule, target, event, entry, {
          errorCode: outcome.errorCode,
          errorMessage: withResponseBody(outcome.errorMessage, outcome.responseBody),
          retryAttempts: retriesSoFar,
          ...(exhausted ? { exhausted } : {}),
        });
        return;
      }
      this.audit?.append({ ...entry, outcome: 'retrying', error: outcome.errorMessage });
      await this.sleep(delaySeconds * 1000 * this.timeScale);
    }
  }

  private async invoke(target: CompiledTarget, event: EventBridgeEvent): Promise<Outcome> {
    if (target.invoker) return target.invoker.invoke(event as unknown as Record<string, unknown>);
    const definition = target.definition as FunctionTarget;
    const url = `lambda:${definition.functionName}`;
    try {
      await definition.invoke(event);
      return { ok: true, status: 200, url };
    } catch (error) {
      return {
        ok: false,
        retryable: true,
        url,
        errorCode: 'ERROR_FROM_TARGET',
        errorMessage: `Function ${definition.functionName} failed: ${(error as Error).message ?? String(error)}`,
      };
    }
  }

  private async deadLetter(
    rule: Rule,
    target: CompiledTarget,
    event: EventBridgeEvent,
    entry: Omit<Extract<AuditEntry, { kind: 'delivery' }>, 'outcome'>,
    failure: { errorCode: string; errorMessage: string; retryAttempts: number; exhausted?: string },
  ): Promise<void> {
    const sink = target.definition.deadLetter;
    if (!sink) {
      // EventBridge drops the event when no DLQ is configured; the audit trail still says so.
      this.audit?.append({
        ...entry,
        outcome: 'dead-lettered',
        error: `dropped (no dead-letter queue): ${failure.errorMessage}`,
      });
      return;
    }
    const attributes: Record<string, string> = {
      RULE_ARN: rule.arn,
      TARGET_ARN: target.arn,
      ERROR_CODE: failure.errorCode,
      ERROR_MESSAGE: failure.errorMessage,
      RETRY_ATTEMPTS: String(failure.retryAttempts),
      ...(failure.exhausted ? { EXHAUSTED_RETRY_CONDITION: failure.exhausted } : {}),
    };
    try {
      await sink.send(JSON.stringify(event), attributes);
      this.audit?.append({ ...entry, outcome: 'dead-lettered', error: failure.errorMessage });
    } catch (error) {
      this.audit?.append({
        ...entry,
        outcome: 'dead-lettered',
        error: `sending to the dead-letter queue failed (${(error as Error).message}); event dropped: ${failure.errorMessage}`,
      });
    }
  }

  private backoffSeconds(retriesSoFar: number): number {
    const ceiling = Math.min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** retriesSoFar);
    return ceiling / 2 + this.random() * (ceiling / 2);
  }

  /** Resolves when no delivery, retry or replay is under way (deliveries they start included). */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops retries and replays (pending retries are abandoned) and waits for what is in flight. */
  async close(): Promise<void> {
    this.stopped = true;
    for (const { timer, resolve } of this.timers) {
      clearTimeout(timer);
      resolve();
    }
    this.timers.clear();
    await this.whenIdle();
  }

  track(work: Promise<void>): void {
    const tracked = work.catch(() => undefined); // deliver/runReplay handle their own errors
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.timers.add(entry);
    });
  }
}
