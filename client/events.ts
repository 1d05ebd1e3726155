/** An EventBridge event as the bus delivers, archives and dead-letters it (the JSON a target receives). */
export interface EventBridgeEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** ISO 8601, whole seconds, UTC: 2017-10-02T16:24:49Z. */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
  /** Present on replayed events only. */
  'replay-name'?: string;
}
