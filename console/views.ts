import type { AlarmView } from '../client/alarms.js';
import { deadLetterReason, type DeadLetterList } from '../client/dead-letters.js';
import type { CarOrderListItem } from '../client/orders.js';
import type { PartnerRecord } from '../shared/partners.js';

/**
 * What the console's page receives: plain data, built here from what the client module reads, with nothing secret
 * in it (API key ids, never values; no client secrets, no secret names, no tokens). The page renders it with
 * textContent only.
 */

export type OrderState = 'submitted' | 'tiresOrdered' | 'completed' | 'failed';
export const ORDER_STATES: readonly OrderState[] = ['submitted', 'tiresOrdered', 'completed', 'failed'];

export interface OrderRow {
  id: string;
  state: OrderState;
  status: string;
  workState?: string;
  clientId?: string;
  carType?: string;
  quantity?: number;
  tireOrderId?: string;
  createdAt?: string;
  updatedAt?: string;
}

/** A car order's place on the board: given up beats its status; waiting for its tire order is still submitted. */
export function orderStateOf(order: CarOrderListItem): OrderState {
  if (order.workState === 'TIRE_ORDER_FAILED') return 'failed';
  if (order.status === 'OrderCompleted') return 'completed';
  if (order.status === 'TiresOrdered') return 'tiresOrdered';
  return 'submitted';
}

export function orderRow(order: CarOrderListItem): OrderRow {
  const row: OrderRow = { id: order.id, state: orderStateOf(order), status: order.status ?? '' };
  const optional = ['workState', 'clientId', 'carType', 'quantity', 'tireOrderId', 'createdAt', 'updatedAt'] as const;
  for (const key of optional)
    if (order[key] !== undefined) (row as unknown as Record<string, unknown>)[key] = order[key];
  return row;
}

export interface DeadLetterRow {
  messageId: string;
  eventId?: string;
  eventTime?: string;
  carOrderId?: string;
  retryAttempts?: number;
  errorCode?: string;
  reason?: string;
  /** The endpoint's whole answer, when the message carries it. */
  responseBody?: string;
  sentAt?: string;
}

export function deadLetterRows(list: DeadLetterList): DeadLetterRow[] {
  return list.messages.map((m) => ({
    messageId: m.messageId,
    ...(m.event?.id ? { eventId: m.event.id } : {}),
    ...(m.event?.time ? { eventTime: m.event.time } : {}),
    ...(m.event?.carOrderId ? { carOrderId: m.event.carOrderId } : {}),
    ...(m.retryAttempts !== undefined ? { retryAttempts: m.retryAttempts } : {}),
    ...(m.errorCode ? { errorCode: m.errorCode } : {}),
    ...(deadLetterReason(m) ? { reason: deadLetterReason(m) } : {}),
    ...(m.responseBody !== undefined ? { responseBody: m.responseBody } : {}),
    ...(m.sentAt ? { sentAt: m.sentAt } : {}),
  }));
}

export interface PartnerRow {
  name: string;
  clientId: string;
  managedBy: string;
  apiKeyIds: string[];
  cidrs: string[];
  scopes: string[];
  createdAt?: string;
  state: 'active' | 'rotating' | 'rotation overdue' | 'revoked';
  revokedAt?: string;
  /** A secret rotation in progress: the old secret is accepted until the deadline. */
  rotation?: { rotatedAt: string; deadline: string };
}

/** Only the fields an operator reads: ids and addresses, never a secret's value or where it is kept. */
export function partnerRow(record: PartnerRecord, now: Date): PartnerRow {
  const rotation = record.rotation;
  const state = record.revokedAt
    ? 'revoked'
    : rotation
      ? Date.parse(rotation.previousAcceptedUntil) <= now.getTime()
        ? 'rotation overdue'
        : 'rotating'
      : 'active';
  return {
    name: record.name,
    clientId: record.clientId,
    managedBy: record.managedBy,
    apiKeyIds: [...record.apiKeyIds],
    cidrs: [...record.cidrs],
    scopes: [...record.scopes],
    ...(record.createdAt ? { createdAt: record.createdAt } : {}),
    state,
    ...(record.revokedAt ? { revokedAt: record.revokedAt } : {}),
    ...(rotation ? { rotation: { rotatedAt: rotation.rotatedAt, deadline: rotation.previousAcceptedUntil } } : {}),
  };
}

export interface AlarmRow {
  company: string;
  name: string;
  alarmName: string;
  state: string;
  reason: string;
  condition: string;
  stateUpdatedAt: string;
}

export function alarmRow(alarm: AlarmView): AlarmRow {
  const { company, name, alarmName, state, reason, condition, stateUpdatedAt } = alarm;
  return { company, name, alarmName, state, reason, condition, stateUpdatedAt };
}

export interface DeliveryRow {
  time: string;
  eventId: string;
  carOrderId?: string;
  attempt: number;
  outcome: string;
  status?: number;
  /** How long the car API took to answer the callback (its own measurement), when it was reached. */
  latencyMs?: number;
  error?: string;
  replayName?: string;
}

export interface RefusalRow {
  time: string;
  company: string;
  /** waf, resource-policy, authorizer, api-key, usage-plan, validation, token endpoint, listener... */
  layer: string;
  status?: number;
  sourceIp?: string;
  clientId?: string;
  /** The client id an unverified token named (refused before the authorizer). */
  claimedClientId?: string;
  method?: string;
  path?: string;
  problem?: string;
}

export interface Throughput {
  /** Minute buckets over the last hour, oldest first: orders created per minute. */
  ordersPerMinute: number[];
  /** Per API: the p95 latency (ms) in 5-minute buckets over the last hour, oldest first (null: no calls). */
  latencyP95: { api: string; points: (number | null)[] }[];
  from: string;
  to: string;
}

export interface Snapshot {
  target: { kind: 'local' | 'aws'; stage: string; label: string };
  generatedAt: string;
  orders?: { counts: Record<OrderState, number>; rows: OrderRow[]; more: boolean };
  deliveries?: { rows: DeliveryRow[]; note?: string };
  deadLetters?: { approximateVisible?: number; rows: DeadLetterRow[] };
  refusals?: { rows: RefusalRow[]; note?: string };
  partners?: PartnerRow[];
  alarms?: AlarmRow[];
  throughput?: Throughput;
  /** A section that could not be read, with why (the others still show). */
  errors: Record<string, string>;
  /** What this target cannot do from the console, said once. */
  readOnly: string[];
  /** The latest redrives and discards, newest first. */
  actions: ActionView[];
}

export interface ActionView {
  id: number;
  kind: 'redrive' | 'discard';
  state: 'running' | 'done' | 'failed';
  startedAt: string;
  summary: string;
  progress: string[];
}
