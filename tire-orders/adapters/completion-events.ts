import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  TIRE_ORDER_COMPLETED,
  tireOrderClientResource,
  type TireOrderCompletedDetail,
} from '../../shared/contracts.js';

/** PutEvents accepts 1 to 10 entries per request (EventBridge API reference, PutEvents). */
export const MAX_PUT_EVENTS_ENTRIES = 10;

export interface CompletionEvent {
  /** The tire order the event is about, so the caller can match outcomes to orders. */
  tireOrderId: string;
  /** The client that placed the order: the event's resource, on which each partner's rule matches. */
  clientId: string;
  detail: TireOrderCompletedDetail;
}

interface PublishOutcome {
  published: CompletionEvent[];
  failed: { event: CompletionEvent; errorCode: string; errorMessage?: string }[];
}

/**
 * Publishes TireOrderCompleted events on the supplier's bus, each naming the client that placed the order in its
 * resources; the car maker's rule there matches only its own client's events and calls it back.
 */
export class CompletionEventPublisher {
  constructor(
    private readonly eventBridge: EventBridgeClient,
    private readonly eventBusName: string,
    private readonly source: string,
  ) {}

  /** A publisher on a plain client, so AWS_ENDPOINT_URL and the Lambda environment configure it. */
  static fromEnvironment(eventBusName: string, source: string): CompletionEventPublisher {
    return new CompletionEventPublisher(new EventBridgeClient({}), eventBusName, source);
  }

  /**
   * Sends one PutEvents request of at most 10 events. PutEvents is not all-or-nothing: the response has one
   * entry per request entry, in order, each with an EventId or an ErrorCode; FailedEntryCount says how many
   * failed. Each event is reported as published or failed accordingly. A request that fails as a whole throws.
   */
  async publish(events: CompletionEvent[]): Promise<PublishOutcome> {
    if (events.length === 0) return { published: [], failed: [] };
    if (events.length > MAX_PUT_EVENTS_ENTRIES) {
      throw new RangeError(`PutEvents takes at most ${MAX_PUT_EVENTS_ENTRIES} entries, got ${events.length}`);
    }
    const entries: PutEventsRequestEntry[] = events.map((event) => ({
      EventBusName: this.eventBusName,
      Source: this.source,
      DetailType: TIRE_ORDER_COMPLETED,
      Resources: [tireOrderClientResource(event.clientId)],
      Detail: JSON.stringify(event.detail),
    }));
    const response = await this.eventBridge.send(new PutEventsCommand({ Entries: entries }));
    const outcome: PublishOutcome = { published: [], failed: [] };
    const allSucceeded = (response.FailedEntryCount ?? 0) === 0 && response.Entries?.length === events.length;
    events.forEach((event, index) => {
      const result = response.Entries?.[index];
      if (result?.ErrorCode) {
        outcome.failed.push({ event, errorCode: result.ErrorCode, errorMessage: result.ErrorMessage });
      } else if (allSucceeded || result?.EventId !== undefined) {
        outcome.published.push(event);
      } else {
        // No result for this entry: count it as failed, so it is retried (at worst a duplicate, never lost).
        outcome.failed.push({ event, errorCode: 'MissingResultEntry' });
      }
    });
    return outcome;
  }
}
