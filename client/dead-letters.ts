import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { readAuditEntries, type TimedAuditEntry } from './audit.js';
import { OperatorError } from './errors.js';
import type { EventBridgeEvent } from './events.js';
import { listArchivedEvents } from './local-operations.js';
import type { ArchiveHandle, EventBusHandle, ResourceLocator, RuleHandle } from './locator.js';
import { getCarOrder } from './orders.js';
import { followReplay, newReplayName, startReplay } from './replays.js';

const iso = (value: Date | number) => new Date(value).toISOString();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function readLocalAudit(locator: ResourceLocator): TimedAuditEntry[] {
  if (!locator.local) throw new OperatorError('The audit log file exists only for the local runtime.');
  return readAuditEntries(locator.local.auditPath);
}

/**
 * The completion callbacks EventBridge gave up on, from the dead-letter queue of
 * the callback rule's locator.
 *
 * Redrive sends each dead-lettered event through the same rule target again (its API destination, connection,
 * retry policy and dead-letter queue) by replaying it from the bus archive to that rule only: StartReplay with
 * Destination.FilterArns = [the RULE_ARN the message names] over the one-second window of the event's time. That is
 * the only way, on AWS as locally, to invoke an API destination with its connection's OAuth credentials (there is
 * no "invoke API destination" API); PutEvents of the body would re-archive the event and reach every rule. A
 * replayed event carries `replay-name`, and other events of the same second are sent to that rule too, which is
 * harmless (the car maker's callback is idempotent) and counted. A message is deleted only when its delivery is
 * confirmed: locally by the delivery the runtime recorded for the replayed event; on AWS by the car order showing
 * the completion the callback carries. A redrive that fails again is dead-lettered again by EventBridge as a new
 * message carrying our replay name: that copy is deleted and the original kept, with the new error reported; so is
 * every copy the resends of other events of the same second produce (locally the audit says how many to wait for).
 */

/** Replays a redrive starts are named `b2b-redrive-<time>-<random>`; dead letters of their events carry it. */
const REDRIVE_PREFIX = 'b2b-redrive';

export interface DeadLetterEvent {
  id: string;
  time: string;
  detailType: string;
  source: string;
  replayName?: string;
  carOrderId?: string;
  tireOrderId?: string;
  correlationId?: string;
}

export interface DeadLetter {
  messageId: string;
  sentAt?: string;
  receiveCount?: number;
  errorCode?: string;
  /** ERROR_MESSAGE as EventBridge recorded it (locally with the endpoint's response body appended). */
  errorMessage?: string;
  /** The endpoint's answer, when the message carries it. */
  responseBody?: string;
  retryAttempts?: number;
  exhaustedRetryCondition?: string;
  ruleArn?: string;
  targetArn?: string;
  event?: DeadLetterEvent;
  /** Why the body is not an event, when it is not. */
  unreadable?: string;
}

interface ReceivedDeadLetter extends DeadLetter {
  receiptHandle: string;
}

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

export function deadLetterOf(message: Message): ReceivedDeadLetter {
  const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  const sent = message.Attributes?.SentTimestamp;
  const receiveCount = message.Attributes?.ApproximateReceiveCount;
  const retryAttempts = attribute('RETRY_ATTEMPTS');
  const letter: ReceivedDeadLetter = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    ...(sent ? { sentAt: iso(Number(sent)) } : {}),
    ...(receiveCount ? { receiveCount: Number(receiveCount) } : {}),
    ...(attribute('ERROR_CODE') ? { errorCode: attribute('ERROR_CODE') } : {}),
    ...(attribute('ERROR_MESSAGE') ? { errorMessage: attribute('ERROR_MESSAGE') } : {}),
    ...responseBodyOf(attribute('ERROR_MESSAGE')),
    ...(retryAttempts !== undefined ? { retryAttempts: Number(retryAttempts) } : {}),
    ...(attribute('EXHAUSTED_RETRY_CONDITION')
      ? { exhaustedRetryCondition: attribute('EXHAUSTED_RETRY_CONDITION') }
      : {}),
    ...(attribute('RULE_ARN') ? { ruleArn: attribute('RULE_ARN') } : {}),
    ...(attribute('TARGET_ARN') ? { targetArn: attribute('TARGET_ARN') } : {}),
  };
  let body: Partial<EventBridgeEvent>;
  try {
    body = JSON.parse(message.Body ?? '') as Partial<EventBridgeEvent>;
  } catch {
    return { ...letter, unreadable: 'the message body is not JSON' };
  }
  const id = text(body?.id);
  const time = text(body?.time);
  if (!id || !time || Number.isNaN(Date.parse(time)))
    return { ...letter, unreadable: 'the message body is not an EventBridge event' };
  const detail = (body.detail ?? {}) as Record<string, unknown>;
  const event: DeadLetterEvent = {
    id,
    time,
    detailType: text(body['detail-type']) ?? '',
    source: text(body.source) ?? '',
    ...(text(body['replay-name']) ? { replayName: text(body['replay-name']) } : {}),
    ...(text(detail.carOrderId) ? { carOrderId: text(detail.carOrderId) } : {}),
    ...(text(detail.tireOrderId) ? { tireOrderId: text(detail.tireOrderId) } : {}),
    ...(text(detail.correlationId) ? { correlationId: text(detail.correlationId) } : {}),
  };
  return { ...letter, event };
}

/**
 * A message EventBridge dead-lettered for an event a redrive resent. Never an original: the event's own dead letter
 * (if it failed before) is still queued or was delivered, so the copy only duplicates it.
 */
function isRedriveCopy(letter: ReceivedDeadLetter): boolean {
  return letter.event?.replayName?.startsWith(`${REDRIVE_PREFIX}-`) === true;
}

const RESPONSE_BODY_MARK = ' Response body: ';

function responseBodyOf(errorMessage: string | undefined): { responseBody?: string } {
  const at = errorMessage?.indexOf(RESPONSE_BODY_MARK) ?? -1;
  return at < 0 ? {} : { responseBody: errorMessage!.slice(at + RESPONSE_BODY_MARK.length) };
}

/**
 * One line saying why, for the table: the status and the problem detail the endpoint answered
 * (`HTTP 404: Car order X not found`), else the error message without EventBridge's fixed prefix.
 */
export function deadLetterReason(letter: DeadLetter): string | undefined {
  if (letter.unreadable) return letter.unreadable;
  const message = letter.errorMessage?.replace(/^Unable to invoke ApiDestination endpoint: /, '');
  const status = /HTTP status code (\d{3})/.exec(message ?? '')?.[1];
  if (letter.responseBody === undefined || status === undefined) return message;
  let detail = letter.responseBody;
  try {
    const body = JSON.parse(letter.responseBody) as { detail?: unknown; message?: unknown; title?: unknown };
    const said = [body.detail, body.message, body.title].find((v) => typeof v === 'string' && v !== '');
    if (typeof said === 'string') detail = said;
  } catch {
    // not JSON: the body as it is
  }
  return `HTTP ${status}: ${detail.replace(/\s+/g, ' ').trim()}`;
}

function publicView({ receiptHandle: _receiptHandle, ...letter }: ReceivedDeadLetter): DeadLetter {
  return letter;
}

/**
 * Receives up to `max` messages, each hidden for `visibilitySeconds` so a repeated receive does not return it again
 * (SQS has no "peek"); callers release or delete every message they received.
 */
async function receive(
  locator: ResourceLocator,
  queueUrl: string,
  max: number,
  visibilitySeconds: number,
): Promise<ReceivedDeadLetter[]> {
  const letters = new Map<string, ReceivedDeadLetter>();
  while (letters.size < max) {
    const result = await locator.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - letters.size),
        VisibilityTimeout: visibilitySeconds,
        // Long polling asks every SQS server, so an empty answer means the queue has no visible message.
        WaitTimeSeconds: locator.kind === 'aws' ? 1 : 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
      }),
    );
    const messages = result.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      const letter = deadLetterOf(message);
      if (!letters.has(letter.messageId)) letters.set(letter.messageId, letter);
    }
  }
  return [...letters.values()];
}

/** Makes messages visible again at once. */
async function release(
  locator: ResourceLocator,
  queueUrl: string,
  letters: readonly ReceivedDeadLetter[],
): Promise<void> {
  for (const letter of letters) {
    try {
      await locator.clients.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: letter.receiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    } catch (error) {
      // Its visibility timeout already ran out: it is visible again anyway.
      if ((error as Error).name !== 'MessageNotInflight') throw error;
    }
  }
}

async function remove(locator: ResourceLocator, queueUrl: string, letter: ReceivedDeadLetter): Promise<void> {
  await locator.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: letter.receiptHandle }));
}

export interface DeadLetterList {
  queueUrl: string;
  approximateVisible?: number;
  approximateInFlight?: number;
  messages: DeadLetter[];
}

export async function listDeadLetters(locator: ResourceLocator, max: number): Promise<DeadLetterList> {
  const queueUrl = await locator.deadLetterQueueUrl();
  const attributes = await locator.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const letters = await receive(locator, queueUrl, max, 30);
  await release(locator, queueUrl, letters);
  const visible = attributes.Attributes?.ApproximateNumberOfMessages;
  const inFlight = attributes.Attributes?.ApproximateNumberOfMessagesNotVisible;
  return {
    queueUrl,
    ...(visible !== undefined ? { approximateVisible: Number(visible) } : {}),
    ...(inFlight !== undefined ? { approximateInFlight: Number(inFlight) } : {}),
    messages: letters.map(publicView).sort((a, b) => (a.event?.time ?? '').localeCompare(b.event?.time ?? '')),
  };
}

export interface DiscardResult {
  queueUrl: string;
  /** The operator answered no: nothing was deleted. */
  declined?: boolean;
  discarded: DeadLetter[];
  /** Message ids asked for that the queue does not hold (already gone, or a typo). */
  notFound: string[];
}

/** Deletes the messages with these ids, or every message (`ids` undefined); releases every other one it read. */
export async function discardDeadLetters(
  locator: ResourceLocator,
  ids: readonly string[] | undefined,
): Promise<DiscardResult> {
  const queueUrl = await locator.deadLetterQueueUrl();
  const letters = await receive(locator, queueUrl, 10_000, 120);
  const chosen = ids === undefined ? letters : letters.filter((letter) => ids.includes(letter.messageId));
  for (const letter of chosen) await remove(locator, queueUrl, letter);
  await release(
    locator,
    queueUrl,
    letters.filter((letter) => !chosen.includes(letter)),
  );
  return {
    queueUrl,
    discarded: chosen.map(publicView),
    notFound: (ids ?? []).filter((id) => !chosen.some((letter) => letter.messageId === id)),
  };
}

export type RedriveOutcome = 'delivered' | 'failed' | 'pending' | 'skipped';

export interface RedriveItem extends DeadLetter {
  outcome: RedriveOutcome;
  /** True when the message was deleted from the queue (delivered only). */
  removed: boolean;
  reason?: string;
  replayName?: string;
}

export interface RedriveResult {
  queueUrl: string;
  replays: { name: string; rule: string; from: string; to: string; state: string }[];
  items: RedriveItem[];
  delivered: number;
  kept: number;
  /** Events re-sent to the rule only because they shared a second with a dead-lettered one (locally counted). */
  alsoResent?: number;
  /** Copies of dead letters that redrives' resends produced (this one's, or an earlier one's left over): deleted. */
  copiesRemoved: number;
  /** Message ids asked for that the queue does not hold. */
  notFound?: string[];
  notes: string[];
}

interface Candidate {
  letter: ReceivedDeadLetter;
  event: DeadLetterEvent;
  rule: RuleHandle;
  outcome: RedriveOutcome;
  reason?: string;
  replayName?: string;
}

/** Dead-lettered events of one rule, grouped into windows of nearby event times (one replay each). */
function replayWindows(candidates: Candidate[]): { rule: RuleHandle; from: Date; to: Date; members: Candidate[] }[] {
  const byRule = new Map<string, Candidate[]>();
  for (const candidate of candidates)
    byRule.set(candidate.rule.arn, [...(byRule.get(candidate.rule.arn) ?? []), candidate]);
  const windows: { rule: RuleHandle; from: Date; to: Date; members: Candidate[] }[] = [];
  for (const members of byRule.values()) {
    const sorted = [...members].sort((a, b) => Date.parse(a.event.time) - Date.parse(b.event.time));
    let current: { rule: RuleHandle; from: Date; to: Date; members: Candidate[] } | undefined;
    for (const candidate of sorted) {
      // Event times are whole seconds; [t, t + 1 s) holds exactly that second's events.
      const second = Math.floor(Date.parse(candidate.event.time) / 1000) * 1000;
      if (current && second - current.to.getTime() <= 60_000) {
        current.to = new Date(Math.max(current.to.getTime(), second + 1000));
        current.members.push(candidate);
      } else {
        current = { rule: candidate.rule, from: new Date(second), to: new Date(second + 1000), members: [candidate] };
        windows.push(current);
      }
    }
  }
  return windows;
}

interface ReplayRun {
  name: string;
  rule: string;
  from: string;
  to: string;
  state: string;
}

/** Which received messages can be redriven (an event of a rule on the bus) and which are skipped, with why. */
function sortLetters(
  letters: readonly ReceivedDeadLetter[],
  rules: readonly RuleHandle[],
  busName: string,
): { skipped: RedriveItem[]; candidates: Candidate[] } {
  const skipped: RedriveItem[] = [];
  const candidates: Candidate[] = [];
  for (const letter of letters) {
    const rule = rules.find((r) => r.arn === letter.ruleArn);
    if (!letter.event)
      skipped.push({
        ...publicView(letter),
        outcome: 'skipped',
        removed: false,
        reason: letter.unreadable ?? 'no event',
      });
    else if (!rule) {
      skipped.push({
        ...publicView(letter),
        outcome: 'skipped',
        removed: false,
        reason: `its rule ${letter.ruleArn ?? '(none)'} is not on bus ${busName}`,
      });
    } else candidates.push({ letter, event: letter.event, rule, outcome: 'pending' });
  }
  return { skipped, candidates };
}

/** Locally the archive can be checked; on AWS it keeps events longer (30 days) than the queue keeps messages (14). */
async function skipUnarchived(
  locator: ResourceLocator,
  archive: ArchiveHandle,
  candidates: readonly Candidate[],
): Promise<void> {
  if (!locator.local) return;
  for (const candidate of candidates) {
    const second = Math.floor(Date.parse(candidate.event.time) / 1000) * 1000;
    const archived = await listArchivedEvents(locator.local, archive.name, new Date(second), new Date(second + 1000));
    if (!archived.some((event) => event.id === candidate.event.id)) {
      candidate.outcome = 'skipped';
      candidate.reason = `event ${candidate.event.id} is not in archive ${archive.name} (past its retention?)`;
    }
  }
}

async function startRedriveReplays(
  locator: ResourceLocator,
  place: { archive: ArchiveHandle; bus: EventBusHandle },
  toReplay: readonly Candidate[],
  progress: (line: string) => void,
): Promise<ReplayRun[]> {
  const replays: ReplayRun[] = [];
  for (const window of replayWindows([...toReplay])) {
    const name = newReplayName(REDRIVE_PREFIX, new Date());
    progress(
      `Redriving ${window.members.length} event${window.members.length === 1 ? '' : 's'} to rule ${window.rule.name} (replay ${name}, ${iso(window.from)} .. ${iso(window.to)})`,
    );
    await startReplay(locator, {
      name,
      description: `b2b dlq redrive of ${window.members.map((m) => m.event.id).join(' ')}`,
      ...place,
      from: window.from,
      to: window.to,
      rules: [window.rule],
    });
    for (const member of window.members) member.replayName = name;
    replays.push({ name, rule: window.rule.name, from: iso(window.from), to: iso(window.to), state: 'STARTING' });
  }
  return replays;
}

async function followRedriveReplays(
  locator: ResourceLocator,
  replays: ReplayRun[],
  toReplay: readonly Candidate[],
  deadline: number,
  progress: (line: string) => void,
): Promise<void> {
  for (const replay of replays) {
    const final = await followReplay(
      locator,
      replay.name,
      { from: new Date(replay.from), to: new Date(replay.to) },
      {
        deadline,
        intervalMs: locator.local ? 200 : 5_000,
        onProgress: (p) => progress(`  ${replay.name}: ${p.state}${p.stateReason ? ` - ${p.stateReason}` : ''}`),
      },
    );
    replay.state = final.state;
    if (final.state !== 'COMPLETED' && final.state !== 'RUNNING' && final.state !== 'STARTING') {
      for (const member of toReplay.filter((c) => c.replayName === replay.name)) {
        member.outcome = 'failed';
        member.reason = `replay ${replay.name} ended ${final.state}${final.stateReason ? `: ${final.stateReason}` : ''}`;
      }
    }
  }
}

/** What a redrive waits for: its candidates' outcomes and (locally) the copies its failed resends produce. */
interface RedriveWatch {
  queueUrl: string;
  ours: ReadonlySet<string>;
  toReplay: readonly Candidate[];
  deadline: number;
  /** `replayName/eventId` of every copy deleted so far. */
  dropped: Set<string>;
  /** Locally: `replayName/eventId` of every event the replays send to the rule (its pattern matches). */
  expected?: ReadonlySet<string>;
}

/**
 * Locally: which archived events each replay sends through its rule, so the redrive waits for the final delivery
 * of every one of them, not only of the messages it redrives (the others of the same second fail or succeed too,
 * and a failure's copy must be deleted). The rule's own pattern decides, through TestEventPattern.
 */
async function expectedDeliveries(
  locator: ResourceLocator,
  archive: ArchiveHandle,
  replays: readonly ReplayRun[],
  rules: readonly RuleHandle[],
): Promise<Set<string>> {
  const expected = new Set<string>();
  if (!locator.local) return expected;
  for (const replay of replays) {
    const rule = rules.find((r) => r.name === replay.rule);
    if (!rule?.eventPattern) continue;
    const pattern = rule.eventPattern;
    const events = await listArchivedEvents(locator.local, archive.name, new Date(replay.from), new Date(replay.to));
    for (const event of events) {
      const test = new TestEventPatternCommand({ EventPattern: pattern, Event: JSON.stringify(event) });
      if ((await locator.clients.events.send(test)).Result === true) expected.add(copyKey(replay.name, event.id));
    }
  }
  return expected;
}

const copyKey = (replayName: string, eventId: string) => `${replayName}/${eventId}`;

/**
 * A redrive that failed again comes back as a new message carrying our replay name, and so does every other event
 * the replay resent (same second) that failed: note a candidate's new error, delete every such copy.
 */
async function dropFailedCopies(locator: ResourceLocator, watch: RedriveWatch): Promise<void> {
  const fresh = await receive(locator, watch.queueUrl, 100, 30);
  const others: ReceivedDeadLetter[] = [];
  for (const copy of fresh) {
    const replayName = copy.event?.replayName;
    if (!replayName || !watch.ours.has(replayName)) {
      others.push(copy);
      continue;
    }
    const candidate = watch.toReplay.find((c) => c.event.id === copy.event?.id);
    if (candidate && candidate.outcome === 'pending') {
      candidate.outcome = 'failed';
      candidate.reason = `dead-lettered again: ${copy.errorCode ?? ''} ${copy.errorMessage ?? ''}`.trim();
    }
    await remove(locator, watch.queueUrl, copy);
    watch.dropped.add(copyKey(replayName, copy.event!.id));
  }
  await release(locator, watch.queueUrl, others);
}

/** The audit says an event went to the dead-letter queue (not dropped, not lost on the way). */
function reachedQueue(entry: { outcome: string; error?: string }): boolean {
  return (
    entry.outcome === 'dead-lettered' &&
    !entry.error?.startsWith('dropped (no dead-letter queue)') &&
    !entry.error?.startsWith('sending to the dead-letter queue failed')
  );
}

/**
 * Locally: the deliveries the runtime recorded for our replays. Returns how many other events they re-sent and the
 * copies their failures put in the queue (`replayName/eventId`), which the redrive waits to delete.
 */
function confirmFromAudit(
  locator: ResourceLocator,
  ours: ReadonlySet<string>,
  toReplay: readonly Candidate[],
): { alsoResent: number; copies: Set<string>; settled: Set<string> } {
  const entries = readLocalAudit(locator);
  const last = new Map<string, Extract<(typeof entries)[number], { kind: 'delivery' }>>();
  const copies = new Set<string>();
  const settled = new Set<string>();
  let resent = 0;
  for (const entry of entries) {
    if (entry.kind === 'event' && entry.replayName && ours.has(entry.replayName)) resent += 1;
    if (entry.kind !== 'delivery' || !entry.replayName || !ours.has(entry.replayName)) continue;
    last.set(entry.eventId, entry);
    if (entry.outcome !== 'retrying') settled.add(copyKey(entry.replayName, entry.eventId));
    if (reachedQueue(entry)) copies.add(copyKey(entry.replayName, entry.eventId));
  }
  for (const candidate of toReplay.filter((c) => c.outcome === 'pending')) {
    const delivery = last.get(candidate.event.id);
    if (delivery?.outcome === 'delivered') {
      candidate.outcome = 'delivered';
      candidate.reason = `delivered (HTTP ${delivery.status ?? '2xx'}) on attempt ${delivery.attempt}`;
    } else if (delivery?.outcome === 'dead-lettered') {
      candidate.outcome = 'failed';
      candidate.reason = `dead-lettered again: ${delivery.error ?? ''}`.trim();
    }
  }
  return { alsoResent: Math.max(0, resent - toReplay.length), copies, settled };
}

/** On AWS: the car order shows the completion the callback carries. */
async function confirmFromOrders(locator: ResourceLocator, toReplay: readonly Candidate[]): Promise<void> {
  for (const candidate of toReplay.filter((c) => c.outcome === 'pending')) {
    if (!candidate.event.carOrderId) continue;
    const order = await getCarOrder(locator, candidate.event.carOrderId);
    if (
      order?.status === 'OrderCompleted' &&
      (!candidate.event.tireOrderId || order.tireOrderId === candidate.event.tireOrderId)
    ) {
      candidate.outcome = 'delivered';
      candidate.reason = `car order ${order.id} is OrderCompleted${order.completedAt ? ` (completed ${order.completedAt})` : ''}`;
    }
  }
}

/**
 * Waits until every replayed candidate is delivered or failed and (locally) every copy the replays' failures put
 * in the queue is deleted, or the deadline; returns the local alsoResent count. The outcomes are read before the
 * queue, so a copy the audit announces is in the queue when it is looked for.
 */
async function awaitDeliveries(
  locator: ResourceLocator,
  watch: RedriveWatch,
  progress: (line: string) => void,
): Promise<number | undefined> {
  for (;;) {
    let awaited = new Set<string>();
    let settled = new Set<string>();
    let alsoResent: number | undefined;
    if (locator.local)
      ({ alsoResent, copies: awaited, settled } = confirmFromAudit(locator, watch.ours, watch.toReplay));
    else await confirmFromOrders(locator, watch.toReplay);
    await dropFailedCopies(locator, watch);
    const pending =
      watch.toReplay.filter((c) => c.outcome === 'pending').length +
      [...(watch.expected ?? [])].filter((key) => !settled.has(key)).length;
    const copiesLeft = [...awaited].filter((key) => !watch.dropped.has(key)).length;
    if ((pending === 0 && copiesLeft === 0) || Date.now() > watch.deadline) return alsoResent;
    progress(
      pending > 0
        ? `  waiting for ${pending} deliver${pending === 1 ? 'y' : 'ies'}`
        : `  waiting for ${copiesLeft} dead-lettered cop${copiesLeft === 1 ? 'y' : 'ies'} to remove`,
    );
    await sleep(locator.local ? 250 : 10_000);
  }
}

/** Deletes the delivered messages, releases every other one read, and lists what happened to each. */
async function settleLetters(
  locator: ResourceLocator,
  queueUrl: string,
  letters: readonly ReceivedDeadLetter[],
  skipped: RedriveItem[],
  candidates: readonly Candidate[],
): Promise<RedriveItem[]> {
  const items: RedriveItem[] = [...skipped];
  for (const candidate of candidates) {
    const removed = candidate.outcome === 'delivered';
    if (removed) await remove(locator, queueUrl, candidate.letter);
    items.push({
      ...publicView(candidate.letter),
      outcome: candidate.outcome,
      removed,
      ...(candidate.reason ? { reason: candidate.reason } : {}),
      ...(candidate.replayName ? { replayName: candidate.replayName } : {}),
    });
  }
  await release(
    locator,
    queueUrl,
    letters.filter((letter) => !items.some((item) => item.messageId === letter.messageId && item.removed)),
  );
  return items;
}

const AWS_REDRIVE_NOTE =
  'On AWS a redriven callback counts as delivered once its car order shows the completion it carries; a message ' +
  'whose event has no car order stays in the queue. A resent event that fails after the redrive ended leaves a copy ' +
  '(its replay-name starts with b2b-redrive-): the next redrive deletes it.';

export async function redriveDeadLetters(
  locator: ResourceLocator,
  options: { max: number; timeoutMs: number; messageIds?: readonly string[] },
  progress: (line: string) => void,
): Promise<RedriveResult> {
  const deadline = Date.now() + options.timeoutMs;
  const queueUrl = await locator.deadLetterQueueUrl();
  const [bus, archive, rules] = await Promise.all([locator.eventBus(), locator.archive(), locator.rules()]);
  // Hidden while we work on them, so nothing else redrives them meanwhile; kept ones are released at the end.
  const ids = options.messageIds;
  const received = await receive(
    locator,
    queueUrl,
    ids ? 10_000 : options.max,
    Math.ceil(options.timeoutMs / 1000) + 120,
  );
  const leftoverCopies = received.filter(isRedriveCopy);
  for (const copy of leftoverCopies) await remove(locator, queueUrl, copy);
  const originals = received.filter((letter) => !isRedriveCopy(letter));
  const letters = ids ? originals.filter((letter) => ids.includes(letter.messageId)) : originals;
  await release(
    locator,
    queueUrl,
    originals.filter((letter) => !letters.includes(letter)),
  );
  const { skipped, candidates } = sortLetters(letters, rules, bus.name);
  await skipUnarchived(locator, archive, candidates);
  const toReplay = candidates.filter((c) => c.outcome === 'pending');
  const replays = await startRedriveReplays(locator, { archive, bus }, toReplay, progress);
  await followRedriveReplays(locator, replays, toReplay, deadline, progress);
  const ours = new Set(replays.map((r) => r.name));
  const expected = await expectedDeliveries(locator, archive, replays, rules);
  const watch: RedriveWatch = { queueUrl, ours, toReplay, deadline, dropped: new Set(), expected };
  const alsoResent = await awaitDeliveries(locator, watch, progress);
  const items = await settleLetters(locator, queueUrl, letters, skipped, candidates);
  const delivered = items.filter((item) => item.removed).length;
  return {
    queueUrl,
    replays,
    items,
    delivered,
    kept: items.length - delivered,
    ...(alsoResent !== undefined ? { alsoResent } : {}),
    copiesRemoved: leftoverCopies.length + watch.dropped.size,
    ...(ids ? { notFound: ids.filter((id) => !letters.some((letter) => letter.messageId === id)) } : {}),
    notes: locator.kind === 'aws' ? [AWS_REDRIVE_NOTE] : [],
  };
}
