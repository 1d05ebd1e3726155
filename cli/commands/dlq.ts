import {
  booleanOption,
  integerOption,
  stringOption,
  UsageError,
  type CommandContext,
  type CommandResult,
  type CommandSpec,
} from '../command.js';
import {
  deadLetterReason,
  discardDeadLetters,
  listDeadLetters,
  redriveDeadLetters,
  type DeadLetterList,
  type DiscardResult,
  type RedriveResult,
} from '../../client/dead-letters.js';
import { keyValues, table } from '../output.js';

/**
 * `b2b dlq list` / `discard` / `redrive`: the completion callbacks EventBridge gave up on. The operations are the
 * client module's (client/dead-letters.ts, shared with the console); this file is their command-line form.
 */

export {
  deadLetterOf,
  deadLetterReason,
  type DeadLetter,
  type DeadLetterEvent,
  type DeadLetterList,
  type DiscardResult,
  type RedriveItem,
  type RedriveOutcome,
  type RedriveResult,
} from '../../client/dead-letters.js';

function humanList(result: DeadLetterList): string[] {
  const lines = [
    `Dead-letter queue ${result.queueUrl}: ${result.messages.length} message${result.messages.length === 1 ? '' : 's'} read` +
      `${result.approximateVisible !== undefined ? ` (about ${result.approximateVisible} visible, ${result.approximateInFlight ?? 0} in flight)` : ''}`,
  ];
  if (result.messages.length === 0) return lines;
  lines.push(
    '',
    ...table(result.messages, [
      { header: 'MESSAGE ID', value: (m) => m.messageId },
      { header: 'EVENT TIME', value: (m) => m.event?.time },
      { header: 'CAR ORDER', value: (m) => m.event?.carOrderId },
      { header: 'RETRIES', value: (m) => m.retryAttempts },
      { header: 'ERROR CODE', value: (m) => m.errorCode },
      { header: 'REASON', value: deadLetterReason, max: 100 },
    ]),
  );
  return lines;
}

function humanRedrive(result: RedriveResult): string[] {
  const lines = [`Redrive from ${result.queueUrl}: ${result.delivered} delivered and removed, ${result.kept} kept`];
  if (result.items.length > 0) {
    lines.push(
      '',
      ...table(result.items, [
        { header: 'MESSAGE ID', value: (i) => i.messageId },
        { header: 'CAR ORDER', value: (i) => i.event?.carOrderId },
        { header: 'OUTCOME', value: (i) => `${i.outcome}${i.removed ? ' (removed)' : ' (kept)'}` },
        { header: 'DETAIL', value: (i) => i.reason, max: 120 },
      ]),
    );
  }
  if (result.replays.length > 0) {
    lines.push(
      '',
      'Replays:',
      ...result.replays.map((r) => `  ${r.name}  rule ${r.rule}  ${r.from} .. ${r.to}  ${r.state}`),
    );
  }
  const extra: [string, string][] = [];
  if (result.alsoResent)
    extra.push(['also re-sent', `${result.alsoResent} event(s) of the same seconds (the callback is idempotent)`]);
  if (result.copiesRemoved)
    extra.push(['copies removed', `${result.copiesRemoved} dead letter(s) the resends produced (originals kept)`]);
  if (extra.length > 0) lines.push('', ...keyValues(extra, ''));
  if (result.notFound?.length) lines.push('', `Not in the queue: ${result.notFound.join(' ')}`);
  for (const note of result.notes) lines.push('', `Note: ${note}`);
  return lines;
}

function humanDiscard(result: DiscardResult): string[] {
  if (result.declined) return ['Nothing discarded.'];
  const lines = [
    `Discarded ${result.discarded.length} message${result.discarded.length === 1 ? '' : 's'} from ${result.queueUrl}`,
  ];
  if (result.discarded.length > 0) {
    lines.push(
      '',
      ...table(result.discarded, [
        { header: 'MESSAGE ID', value: (m) => m.messageId },
        { header: 'EVENT ID', value: (m) => m.event?.id },
        { header: 'CAR ORDER', value: (m) => m.event?.carOrderId },
        { header: 'REASON', value: deadLetterReason, max: 100 },
      ]),
    );
  }
  if (result.notFound.length > 0) lines.push('', `Not in the queue: ${result.notFound.join(' ')}`);
  return lines;
}

export const dlqDiscardCommand: CommandSpec = {
  path: ['dlq', 'discard'],
  summary: 'Delete dead-lettered callbacks that can never be delivered (by message id, or --all)',
  description: [
    'Deletes the named messages (ids from "b2b dlq list") or, with --all, every message in the queue. Their',
    'events stay in the bus archive (b2b replay can still resend them). Asks for confirmation on the terminal',
    'unless --yes; without a terminal and without --yes it refuses (exit 2).',
  ],
  positionals: [{ name: 'MESSAGE_ID', description: 'Messages to delete', required: false, variadic: true }],
  options: {
    all: { type: 'boolean', description: 'Delete every message in the queue' },
    yes: { type: 'boolean', short: 'y', description: 'Do not ask for confirmation' },
  },
  examples: [
    'b2b dlq discard 0f6c3c1e-5d3b-4c1e-9a51-2b8f3f0d9c11',
    'b2b dlq discard --all --yes --json',
    'b2b dlq discard --all --stage dev',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const all = booleanOption(input, 'all');
    if (all === input.positionals.length > 0) throw new UsageError('name the MESSAGE_IDs to discard, or --all');
    const target = await context.target();
    const what = all ? 'every message' : `${input.positionals.length} message(s): ${input.positionals.join(' ')}`;
    const question = `Discard ${what} from the dead-letter queue of ${target.label}?`;
    if (!booleanOption(input, 'yes') && !(await context.confirm(question, 'pass --yes to discard without asking'))) {
      const declined: DiscardResult = {
        queueUrl: await target.resources.deadLetterQueueUrl(),
        declined: true,
        discarded: [],
        notFound: [],
      };
      return { data: declined, human: humanDiscard(declined), exitCode: 1 };
    }
    const result = await discardDeadLetters(target.resources, all ? undefined : input.positionals);
    return { data: result, human: humanDiscard(result), exitCode: result.notFound.length > 0 ? 1 : 0 };
  },
};

export const dlqListCommand: CommandSpec = {
  path: ['dlq', 'list'],
  summary: 'List dead-lettered completion callbacks with their error code and message',
  description: [
    "Reads the dead-letter queue of the completion callback rule's target (messages are hidden for 30 s while",
    'being read, then released). Each line is one event EventBridge gave up delivering, with the ERROR_CODE and',
    'ERROR_MESSAGE it recorded.',
  ],
  options: { max: { type: 'string', valueName: 'N', description: 'Read at most N messages (default 100)' } },
  examples: ['b2b dlq list', 'b2b dlq list --max 20 --json', 'b2b dlq list --stage dev'],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const max = integerOption(input, 'max', { min: 1, max: 10_000, default: 100 });
    const result = await listDeadLetters((await context.target()).resources, max);
    return { data: result, human: humanList(result) };
  },
};

export const dlqRedriveCommand: CommandSpec = {
  path: ['dlq', 'redrive'],
  summary: 'Send dead-lettered callbacks through the API destination again; remove only those delivered',
  description: [
    "Each message's event is replayed from the bus archive to the rule it failed for only (StartReplay with",
    'FilterArns), so it goes through the same API destination, OAuth connection, retry policy and dead-letter',
    'queue. A message is deleted only once its delivery is confirmed; the others stay, with the reason. Events of',
    "the same second are re-sent to that rule too; the car maker's callback is idempotent, so they change nothing.",
  ],
  options: {
    max: { type: 'string', valueName: 'N', description: 'Redrive at most N messages (default 100)' },
    timeout: {
      type: 'string',
      valueName: 'SECONDS',
      description: 'How long to wait for the deliveries (default 120 local, 900 on a stage)',
    },
  },
  positionals: [
    {
      name: 'MESSAGE_ID',
      description: 'Redrive only these messages (ids from "b2b dlq list"); default: every message',
      required: false,
      variadic: true,
    },
  ],
  examples: [
    'b2b dlq redrive',
    'b2b dlq redrive --max 10',
    'b2b dlq redrive 0f6c3c1e-5d3b-4c1e-9a51-2b8f3f0d9c11',
    'b2b dlq redrive --stage dev --timeout 600 --json',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const max = integerOption(input, 'max', { min: 1, max: 1000, default: 100 });
    const timeoutSeconds =
      stringOption(input, 'timeout') === undefined
        ? undefined
        : integerOption(input, 'timeout', { min: 1, max: 43_000, default: 0 });
    const target = await context.target();
    // A replay on AWS can take minutes to start and runs in one-minute slices of event time.
    const timeoutMs = (timeoutSeconds ?? (target.kind === 'aws' ? 900 : 120)) * 1000;
    const messageIds = input.positionals.length > 0 ? input.positionals : undefined;
    const result = await redriveDeadLetters(
      target.resources,
      { max, timeoutMs, ...(messageIds ? { messageIds } : {}) },
      context.progress,
    );
    return { data: result, human: humanRedrive(result), exitCode: result.kept > 0 ? 1 : 0 };
  },
};
