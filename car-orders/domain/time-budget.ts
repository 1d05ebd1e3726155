/**
 * How long a piece of work may still take, as an absolute deadline. A function derives it from the Lambda
 * context's remaining time, keeping a reserve to record the outcome and answer; every outside call made under it
 * gets a timeout no longer than what is left, so the work as a whole cannot outlive the function.
 */
export class TimeBudget {
  constructor(
    /** Epoch milliseconds by which the work must be over. */
    readonly deadline: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A budget ending `reserveMs` before the function would time out. */
  static fromRemaining(remainingMs: number, reserveMs: number, now: () => number = Date.now): TimeBudget {
    return new TimeBudget(now() + remainingMs - reserveMs, now);
  }

  remainingMs(): number {
    return Math.max(0, this.deadline - this.now());
  }

  /**
   * The timeout for one call that would otherwise get `maxMs`, or undefined when less than `minMs` is left: too
   * little for the call to be worth starting.
   */
  callTimeoutMs(maxMs: number, minMs: number): number | undefined {
    const remaining = this.remainingMs();
    return remaining < minMs ? undefined : Math.min(maxMs, remaining);
  }
}

/**
 * What a request function keeps for itself after the supplier attempt: recording the outcome (one DynamoDB write),
 * completing the idempotency record and answering.
 */
export const RESPONSE_RESERVE_MS = 2_000;

/** A call given less than this is not started: it could hardly succeed, and its failure would only cost time. */
export const MIN_CALL_MS = 500;
