import { join } from 'node:path';
import { JsonStore } from '../../state/json-store.js';

/** SQS's state: queues with their messages, visibility and receive counts in `{stateDir}/sqs.json`. */

export interface SqsMessageAttributeValue {
  DataType: string;
  StringValue?: string;
  /** base64, as the JSON protocol carries blobs. */
  BinaryValue?: string;
}

export interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  attributes: Record<string, SqsMessageAttributeValue>;
  senderId: string;
  /** Epoch ms. */
  sentTimestamp: number;
  /** Epoch ms before which the message is not received (delay, then visibility timeout). */
  visibleAt: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** Identifies the latest receive; receipt handles of earlier receives no longer act on the message. */
  receiptId?: string;
}

export interface StoredQueue {
  name: string;
  /** Epoch seconds. */
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  /** Settable attributes, as strings (the API's representation). */
  attributes: Record<string, string>;
  tags: Record<string, string>;
  lastPurgeAt?: number;
  messages: StoredMessage[];
}

interface SqsState {
  queues: Record<string, StoredQueue>;
}

export class SqsStore {
  private readonly store: JsonStore<SqsState>;

  constructor(stateDir: string) {
    this.store = new JsonStore<SqsState>(join(stateDir, 'sqs.json'), () => ({ queues: {} }));
  }

  queue(name: string): StoredQueue | undefined {
    return this.store.get().queues[name];
  }

  names(): string[] {
    return Object.keys(this.store.get().queues);
  }

  put(queue: StoredQueue): void {
    this.store.update((state) => {
      state.queues[queue.name] = queue;
    });
  }

  /** Changes a stored queue in place and persists it. */
  change<T>(name: string, change: (queue: StoredQueue) => T): T {
    return this.store.update((state) => change(state.queues[name] as StoredQueue));
  }
}
