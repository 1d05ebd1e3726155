import {
  booleanOption,
  stringOption,
  UsageError,
  type CommandContext,
  type CommandInput,
  type CommandResult,
  type CommandSpec,
} from '../command.js';
import {
  API_KEY_CACHE_MAX_AGE_MS,
  finishSupplierApiKeyRotation,
  rotateSupplierApiKey,
  type ApiKeyRotationResult,
} from '../lib/api-key-rotation.js';
import {
  callbackConnectionName,
  callbackSecretId,
  connectionClientId,
  finishCallbackRotation,
  readSecretValue,
  rotateCallbackClient,
  updateConnectionSecret,
  type CallbackParties,
  type CallbackRotationResult,
} from '../lib/callback-rotation.js';
import { keyValues } from '../output.js';
import type { Target } from '../target.js';
import { humanDuration, parseDuration, sleep } from '../time.js';

/**
 * `b2b rotate callback-client|supplier-api-key|callback-connection`: the car maker's two credentials that the
 * partners' rotation does not cover. Each rotation switches every consumer before the old credential may go, and
 * the old one stops working at the deadline by itself (see the lib modules for how, per target).
 */

const DEFAULT_GRACE_MS = 24 * 3_600_000;
const MAX_GRACE_MS = 30 * 86_400_000;
const CONNECTION_WAIT = { timeoutMs: 60_000, intervalMs: 250 };
const CLIENT_ID = /^[\w+]{1,128}$/;

interface RotateOptions {
  graceMs: number;
  finish: boolean;
  force: boolean;
}

/** --grace / --finish / --force, checked; `minimumMs` is the longest cache a consumer keeps (unless --short-grace). */
export function rotateOptions(input: CommandInput, minimumMs: number): RotateOptions {
  const graceText = stringOption(input, 'grace');
  const graceMs = graceText ? parseDuration(graceText, 'grace') : DEFAULT_GRACE_MS;
  const finish = booleanOption(input, 'finish');
  const force = booleanOption(input, 'force');
  if (graceMs > MAX_GRACE_MS) throw new UsageError('--grace must be at most 30d');
  if (force && !finish) throw new UsageError('--force only applies with --finish');
  if (graceText && finish) throw new UsageError('--grace does not apply with --finish');
  if (!finish && graceMs <= minimumMs && !booleanOption(input, 'short-grace')) {
    throw new UsageError(
      `--grace must exceed ${humanDuration(minimumMs)}, the longest a consumer caches the credential; ` +
        'add --short-grace to accept that a consumer still holding the old one is refused once and re-reads it',
    );
  }
  return { graceMs, finish, force };
}

const rotationOptions = {
  grace: {
    type: 'string',
    valueName: 'DURATION',
    description: 'How long the old credential stays valid (default 24h)',
  },
  finish: { type: 'boolean', description: 'Retire the old credential once its deadline has passed' },
  force: { type: 'boolean', description: 'With --finish: retire it before its deadline' },
  'short-grace': { type: 'boolean', description: "Allow a grace shorter than the consumers' cache max age" },
} as const;

async function callbackParties(target: Target, input: CommandInput): Promise<CallbackParties> {
  const explicitClient = stringOption(input, 'client-id');
  if (explicitClient !== undefined && !CLIENT_ID.test(explicitClient))
    throw new UsageError(`"${explicitClient}" is not an app client id`);
  const pool = await target.resources.userPool('car-orders');
  let connectionName: string | undefined;
  try {
    connectionName = await callbackConnectionName(target);
  } catch (error) {
    // Two accounts: the supplier's connection is not here; the car maker names its client instead.
    if (explicitClient === undefined) throw error;
  }
  const clientId = explicitClient ?? (await connectionClientId(target, connectionName!));
  const secretId = stringOption(input, 'secret-id') ?? (await callbackSecretId(target));
  return { userPoolId: pool.id, clientId, secretId, ...(connectionName ? { connectionName } : {}) };
}

function notes(result: { notes: string[] }): string[] {
  return result.notes.flatMap((note) => ['', `Note: ${note}`]);
}

function callbackHuman(result: CallbackRotationResult): string[] {
  if (result.action === 'finished') return [`Callback client ${result.clientId}: rotation finished.`, ...notes(result)];
  const unenforced =
    result.deadlineEnforced === false
      ? [`WARNING: nothing retires the previous secret at ${result.previousAcceptedUntil}: ${result.enforcement}.`, '']
      : [];
  return [
    ...unenforced,
    `Callback client ${result.clientId} has a new secret ${result.newSecretId}, stored in ${result.secretStoredIn}.`,
    ...keyValues([
      [
        'connection',
        result.connection ? `${result.connection.name}: ${result.connection.state}` : 'not in this account',
      ],
      ['previous secret', result.previousSecretId],
      ['accepted until', result.previousAcceptedUntil],
      ['enforced by', result.enforcement],
    ]),
    ...notes(result),
  ];
}

export const rotateCallbackClientCommand: CommandSpec = {
  path: ['rotate', 'callback-client'],
  summary: "Rotate the car maker's supplierCallback client secret and switch the supplier's connection to it",
  description: [
    'Adds a second secret to the supplierCallback app client (AddUserPoolClientSecret), stores it in the secret the',
    "connection reads, updates the supplier's EventBridge connection (UpdateConnection) and waits for AUTHORIZED;",
    'any failure on the way undoes the new secret. The old secret stops working at the deadline (--grace) without',
    'further action: on AWS a one-time EventBridge Scheduler schedule deletes it then (exit 1 if it cannot be',
    'created), locally the token endpoint refuses it. --finish deletes it (and the schedule) at once, after the',
    'deadline or earlier with --force. With two accounts, pass --client-id: the supplier then runs',
    '`b2b rotate callback-connection` in its own account.',
  ],
  options: {
    ...rotationOptions,
    'client-id': { type: 'string', valueName: 'ID', description: 'The supplierCallback client (two accounts)' },
    'secret-id': {
      type: 'string',
      valueName: 'ID',
      description: "The secret holding its value (default: the stack's)",
    },
  },
  examples: [
    'b2b rotate callback-client --grace 2h',
    'b2b rotate callback-client --finish --stage dev',
    'b2b rotate callback-client --client-id 4f8k2example --stage prod --json',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const options = rotateOptions(input, 0);
    const target = await context.target();
    const parties = await callbackParties(target, input);
    const now = () => context.now();
    const result = options.finish
      ? await finishCallbackRotation(target, parties, { force: options.force, now })
      : await rotateCallbackClient(
          target,
          parties,
          { graceMs: options.graceMs, now, wait: { ...CONNECTION_WAIT, sleep } },
          context.progress,
        );
    // The rotation went through, but an unenforced deadline is a failure the operator must act on.
    const exitCode = result.deadlineEnforced === false ? 1 : 0;
    return { data: result, human: callbackHuman(result), exitCode };
  },
};

export const rotateCallbackConnectionCommand: CommandSpec = {
  path: ['rotate', 'callback-connection'],
  summary: "The supplier's half of a callback rotation: update its connection from the secret, wait for AUTHORIZED",
  description: [
    "Reads the callback client's current secret from Secrets Manager and updates the completion callback's",
    'EventBridge connection with it (UpdateConnection), then waits until the connection is AUTHORIZED.',
  ],
  options: {
    'secret-id': {
      type: 'string',
      valueName: 'ID',
      description: "The secret holding the value (default: the stack's)",
    },
  },
  examples: [
    'b2b rotate callback-connection',
    'b2b rotate callback-connection --secret-id arn:aws:secretsmanager:... --stage prod',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const target = await context.target();
    const connectionName = await callbackConnectionName(target);
    const clientId = await connectionClientId(target, connectionName);
    const secretId = stringOption(input, 'secret-id') ?? (await callbackSecretId(target));
    const clientSecret = await readSecretValue(target, secretId);
    context.progress(`UpdateConnection ${connectionName}; waiting for AUTHORIZED`);
    const state = await updateConnectionSecret(
      target,
      { connectionName, clientId, clientSecret },
      { ...CONNECTION_WAIT, sleep },
    );
    const data = { connection: connectionName, clientId, secretId, ...state };
    return {
      data,
      human: [`Connection ${connectionName} (client ${clientId}) is ${state.state} with the secret of ${secretId}.`],
    };
  },
};

function apiKeyHuman(result: ApiKeyRotationResult): string[] {
  if (result.action === 'finished') return [`Supplier API key rotation finished.`, ...notes(result)];
  return [
    `The car maker's supplier API key is now ${result.newApiKeyId} (usage plan ${result.usagePlanId}), stored in ${result.secretStoredIn}.`,
    ...keyValues([
      ['previous key', result.previousApiKeyId],
      ['accepted until', result.previousAcceptedUntil],
      ['enforced by', result.enforcement],
    ]),
    ...notes(result),
  ];
}

export const rotateSupplierApiKeyCommand: CommandSpec = {
  path: ['rotate', 'supplier-api-key'],
  summary: "Replace the car maker's API key for the supplier's API (values are immutable: a new key)",
  description: [
    "Creates a new API key, adds it to the usage plan, binds it in the car maker's partner record beside the old",
    'one, then switches the secret the car maker reads. The old key is refused from the deadline on by the',
    "supplier's binding check; --finish takes it out of the usage plan and the record.",
  ],
  options: rotationOptions,
  examples: ['b2b rotate supplier-api-key --grace 1h', 'b2b rotate supplier-api-key --finish --stage dev --json'],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const options = rotateOptions(input, API_KEY_CACHE_MAX_AGE_MS);
    const target = await context.target();
    const now = () => context.now();
    const result = options.finish
      ? await finishSupplierApiKeyRotation(target, { force: options.force, now })
      : await rotateSupplierApiKey(target, { graceMs: options.graceMs, now }, context.progress);
    return { data: result, human: apiKeyHuman(result) };
  },
};
