import {
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  UpdateApiKeyCommand,
} from '@aws-sdk/client-api-gateway';
import {
  AddUserPoolClientSecretCommand,
  CreateUserPoolClientCommand,
  DeleteUserPoolClientCommand,
  DeleteUserPoolClientSecretCommand,
  DescribeUserPoolClientCommand,
  ListUserPoolClientSecretsCommand,
  type UserPoolClientType,
} from '@aws-sdk/client-cognito-identity-provider';
import { CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { tireOrdersClients, tireOrdersService } from '../../tire-orders/service.js';
import {
  booleanOption,
  OperatorError,
  stringListOption,
  stringOption,
  UsageError,
  type CommandContext,
  type CommandResult,
  type CommandSpec,
} from '../command.js';
import { canonicalCidr, changeAllowlist } from '../lib/allowlist.js';
import { UndoSteps } from '../lib/undo.js';
import { listPartners, readPartner, writePartner, type PartnerRecord } from '../lib/partner-records.js';
import { keyValues, table } from '../output.js';
import type { Target } from '../target.js';
import { humanDuration, iso, parseDuration, relative } from '../time.js';

/**
 * `b2b partners onboard|rotate-secret|revoke|list`: the supplier's partners. A partner is an app client of the
 * tire-orders user pool (client_credentials, the partner scopes), an API key in the partner usage plan, and its
 * source CIDRs on the allowlist (WAF IP set + resource policy). Secrets go straight from the API that returns them
 * into Secrets Manager; the CLI prints where they are, never their values.
 */

const PARTNER_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;
const CLIENT_ID = /^[\w+]{1,128}$/;

function tokenLifetimeMs(client: UserPoolClientType | undefined, fallbackMinutes: number): number {
  const units = { seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as Record<string, number>;
  if (client?.AccessTokenValidity === undefined) return fallbackMinutes * 60_000;
  // Cognito's default unit for AccessTokenValidity is hours.
  return client.AccessTokenValidity * (units[client.TokenValidityUnits?.AccessToken ?? 'hours'] ?? 3_600_000);
}

function driftNote(target: Target): string[] {
  if (target.kind !== 'aws') return [];
  return [
    `CloudFormation does not know about this change: the next deploy of ${target.names.tireOrdersStack} resets the IP set ` +
      'and the resource policy to the stack\'s CIDRs. Add the partner CIDRs to the "partnerCidrs" context before then.',
  ];
}

// -------------------------------------------------------------------------------------------------------------------
// onboard
// -------------------------------------------------------------------------------------------------------------------

export interface OnboardResult {
  partner: string;
  clientId: string;
  userPoolId: string;
  scopes: string[];
  clientSecretStoredIn: string;
  apiKeyId: string;
  apiKeyStoredIn: string;
  usagePlanId: string;
  cidrs: string[];
  allowlistAdded: string[];
  tokenUrl?: string;
  /** Only with --reveal-secret, locally: the client secret, shown this once. */
  clientSecret?: string;
  notes: string[];
}

/** The onboarding arguments, checked before anything is touched: name, canonical CIDRs, declared scopes. */
export function checkOnboardInput(input: { name: string; cidrs: string[]; scopes?: string[] }): {
  name: string;
  cidrs: string[];
  scopes: string[];
} {
  const { name } = input;
  if (!PARTNER_NAME.test(name))
    throw new UsageError(`partner name "${name}" must be 1-40 lowercase letters, digits or hyphens`);
  if (input.cidrs.length === 0)
    throw new UsageError('at least one --cidr is required: the tire API only answers allowlisted addresses');
  const cidrs = [...new Set(input.cidrs.map(canonicalCidr))];
  const scopes =
    input.scopes && input.scopes.length > 0 ? [...new Set(input.scopes)] : [...tireOrdersClients.carMaker.scopes];
  const declared = Object.keys(tireOrdersService.scopes).map((scope) => `${tireOrdersService.name}/${scope}`);
  const unknown = scopes.filter((scope) => !declared.includes(scope));
  if (unknown.length > 0)
    throw new UsageError(`unknown scope ${unknown.join(', ')}; the tire API defines ${declared.join(', ')}`);
  return { name, cidrs, scopes };
}

/** Revoke schedules the partner's secrets for deletion with this recovery window; their names are taken until then. */
const SECRET_RECOVERY_DAYS = 7;

/** A name is free when no live partner has it and the secrets of a revoked one with it are deleted for good. */
async function assertNameFree(target: Target, name: string, now: Date): Promise<void> {
  const existing = (await listPartners(target)).filter((record) => record.name === name);
  const live = existing.find((record) => !record.revokedAt);
  if (live) throw new OperatorError(`Partner ${name} is already onboarded (client id ${live.clientId}).`);
  const freeAt = Math.max(
    ...existing.map((record) => Date.parse(record.revokedAt!) + SECRET_RECOVERY_DAYS * 86_400_000),
  );
  if (existing.length === 0 || freeAt <= now.getTime()) return;
  throw new OperatorError(
    `Partner name ${name} belonged to ${existing[0]!.clientId}, revoked ${existing[0]!.revokedAt}: Secrets Manager keeps its deleted secrets' names reserved for their ${SECRET_RECOVERY_DAYS}-day recovery window, so the name is free from ${iso(freeAt)}; until then choose another name.`,
  );
}

const REVEAL_REFUSED =
  '--reveal-secret works only against the local runtime: on a stage the secret stays in Secrets Manager, out of ' +
  'terminal scrollback and CI logs; hand it over from there (get-secret-value into a private channel).';

async function createAppClient(
  target: Target,
  userPoolId: string,
  name: string,
  scopes: string[],
  undo: UndoSteps,
): Promise<{ clientId: string; clientSecret: string }> {
  const created = await target.clients.cognito.send(
    new CreateUserPoolClientCommand({
      UserPoolId: userPoolId,
      ClientName: name,
      GenerateSecret: true,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthScopes: scopes,
      SupportedIdentityProviders: ['COGNITO'],
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
      AccessTokenValidity: tireOrdersService.accessTokenValidityMinutes,
      TokenValidityUnits: { AccessToken: 'minutes' },
      EnableTokenRevocation: true,
      PreventUserExistenceErrors: 'ENABLED',
    }),
  );
  const clientId = created.UserPoolClient?.ClientId;
  const clientSecret = created.UserPoolClient?.ClientSecret;
  if (!clientId || !clientSecret) throw new OperatorError('CreateUserPoolClient returned no client id or secret.');
  undo.add(`app client ${clientId}`, () =>
    target.clients.cognito.send(new DeleteUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId })),
  );
  return { clientId, clientSecret };
}

/** Stores a value the API just returned straight into Secrets Manager, tagged with its partner. */
async function storePartnerSecret(
  target: Target,
  secret: { name: string; value: string; description: string; partner: string; clientId: string },
  undo: UndoSteps,
): Promise<void> {
  await target.clients.secrets.send(
    new CreateSecretCommand({
      Name: secret.name,
      SecretString: secret.value,
      Description: secret.description,
      Tags: [
        { Key: 'partner', Value: secret.partner },
        { Key: 'client-id', Value: secret.clientId },
      ],
    }),
  );
  undo.add(`secret ${secret.name}`, () =>
    target.clients.secrets.send(new DeleteSecretCommand({ SecretId: secret.name, ForceDeleteWithoutRecovery: true })),
  );
}

async function createPartnerApiKey(
  target: Target,
  name: string,
  clientId: string,
  usagePlanId: string,
  undo: UndoSteps,
): Promise<{ id: string; value: string }> {
  const apiKey = await target.clients.apiGateway.send(
    new CreateApiKeyCommand({
      name: target.names.partnerApiKey(name),
      description: `Tire-orders partner ${name} (app client ${clientId})`,
      enabled: true,
    }),
  );
  if (!apiKey.id || !apiKey.value) throw new OperatorError('CreateApiKey returned no key id or value.');
  const apiKeyId = apiKey.id;
  undo.add(`API key ${apiKeyId}`, () => target.clients.apiGateway.send(new DeleteApiKeyCommand({ apiKey: apiKeyId })));
  await target.clients.apiGateway.send(
    new CreateUsagePlanKeyCommand({ usagePlanId, keyId: apiKeyId, keyType: 'API_KEY' }),
  );
  return { id: apiKeyId, value: apiKey.value };
}

function onboardResult(target: Target, record: PartnerRecord, tokenUrl: string | undefined): OnboardResult {
  return {
    partner: record.name,
    clientId: record.clientId,
    userPoolId: record.userPoolId,
    scopes: record.scopes,
    clientSecretStoredIn: record.clientSecretName,
    apiKeyId: record.apiKeyIds[0]!,
    apiKeyStoredIn: record.apiKeySecretName,
    usagePlanId: record.usagePlanId,
    cidrs: record.cidrs,
    allowlistAdded: record.addedCidrs,
    ...(tokenUrl ? { tokenUrl } : {}),
    notes: [
      'The client secret and the API key are in Secrets Manager only. Give the partner access to those two secrets ' +
        '(a resource policy for its AWS account) or read them once into a private channel; never paste them in a ' +
        'ticket or chat.',
      ...driftNote(target),
    ],
  };
}

export async function onboardPartner(
  target: Target,
  input: { name: string; cidrs: string[]; scopes?: string[]; revealSecret?: boolean },
  progress: (line: string) => void,
  now: () => Date,
): Promise<OnboardResult> {
  if (input.revealSecret && target.kind !== 'local') throw new UsageError(REVEAL_REFUSED);
  const { name, cidrs, scopes } = checkOnboardInput(input);
  await assertNameFree(target, name, now());
  const pool = await target.resources.userPool('tire-orders');
  const usagePlan = await target.resources.usagePlan();
  const undo = new UndoSteps();
  const clientSecretName = target.names.partnerClientSecret(name);
  const apiKeySecretName = target.names.partnerApiKeySecret(name);
  try {
    progress(`Creating app client ${name} in user pool ${pool.id}`);
    const { clientId, clientSecret } = await createAppClient(target, pool.id, name, scopes, undo);
    const description = `OAuth client secret of tire-orders partner ${name} (app client ${clientId})`;
    await storePartnerSecret(
      target,
      { name: clientSecretName, value: clientSecret, description, partner: name, clientId },
      undo,
    );

    progress(`Creating API key ${target.names.partnerApiKey(name)} in usage plan ${usagePlan.name}`);
    const apiKey = await createPartnerApiKey(target, name, clientId, usagePlan.id, undo);
    const keyDescription = `API key of tire-orders partner ${name} (API key id ${apiKey.id})`;
    await storePartnerSecret(
      target,
      { name: apiKeySecretName, value: apiKey.value, description: keyDescription, partner: name, clientId },
      undo,
    );

    progress(`Allowlisting ${cidrs.join(', ')} (WAF IP set and resource policy)`);
    const allowlist = await changeAllowlist(target, { add: cidrs }, `b2b partners onboard ${name}`);
    const addedCidrs = cidrs.filter(
      (cidr) => allowlist.ipSetChanged.includes(cidr) || allowlist.policyChanged.includes(cidr),
    );
    undo.add(`allowlist entries ${addedCidrs.join(', ')}`, () =>
      changeAllowlist(target, { remove: addedCidrs }, `undo onboard ${name}`),
    );

    const record: PartnerRecord = {
      name,
      clientId,
      userPoolId: pool.id,
      scopes,
      // The tire API serves this client only with these keys and from these CIDRs (partner binding).
      apiKeyIds: [apiKey.id],
      usagePlanId: usagePlan.id,
      cidrs,
      addedCidrs,
      clientSecretName,
      apiKeySecretName,
      managedBy: 'cli',
      createdAt: iso(now()),
    };
    await writePartner(target, record, { create: true });
    const result = onboardResult(target, record, pool.tokenUrl);
    return input.revealSecret ? { ...result, clientSecret } : result;
  } catch (error) {
    await undo.run(progress);
    throw error;
  }
}

// -------------------------------------------------------------------------------------------------------------------
// rotate-secret
// -------------------------------------------------------------------------------------------------------------------

export interface RotateResult {
  clientId: string;
  partner: string;
  action: 'rotated' | 'finished';
  newSecretId?: string;
  secretStoredIn: string;
  previousSecretId?: string;
  previousAcceptedUntil?: string;
  notes: string[];
}

async function deletePreviousSecret(target: Target, record: PartnerRecord): Promise<PartnerRecord> {
  const rotation = record.rotation!;
  try {
    await target.clients.cognito.send(
      new DeleteUserPoolClientSecretCommand({
        UserPoolId: record.userPoolId,
        ClientId: record.clientId,
        ClientSecretId: rotation.previousSecretId,
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  const { rotation: _done, ...rest } = record;
  return { ...rest, lastRotatedAt: rotation.rotatedAt };
}

/** `--finish`: deletes the previous secret once its grace period is over (or at once with --force). */
async function finishRotation(
  target: Target,
  record: PartnerRecord,
  force: boolean,
  now: () => Date,
): Promise<RotateResult> {
  if (!record.rotation) throw new OperatorError(`No secret rotation of ${record.name} is in progress.`);
  const deadline = Date.parse(record.rotation.previousAcceptedUntil);
  if (now().getTime() < deadline && !force) {
    throw new OperatorError(
      `The previous secret of ${record.name} is accepted until ${record.rotation.previousAcceptedUntil} ` +
        `(${relative(deadline, now())}); run --finish after it, or add --force to cut it off now.`,
    );
  }
  const previousSecretId = record.rotation.previousSecretId;
  const finished = await deletePreviousSecret(target, record);
  await writePartner(target, finished, { create: false });
  return {
    clientId: finished.clientId,
    partner: finished.name,
    action: 'finished',
    previousSecretId,
    secretStoredIn: finished.clientSecretName,
    notes: [`The previous secret ${previousSecretId} is deleted: token requests with it are refused from now on.`],
  };
}

/** Adds the app client's second secret and stores it as AWSCURRENT; returns the previous and the new secret ids. */
async function addClientSecret(
  target: Target,
  record: PartnerRecord,
): Promise<{ previousSecretId: string; currentSecretId: string }> {
  const before = await target.clients.cognito.send(
    new ListUserPoolClientSecretsCommand({ UserPoolId: record.userPoolId, ClientId: record.clientId }),
  );
  const previous = before.ClientSecrets ?? [];
  if (previous.length !== 1 || !previous[0]?.ClientSecretId) {
    throw new OperatorError(
      `App client ${record.clientId} has ${previous.length} secrets; rotate-secret expects exactly one before it adds the new one.`,
    );
  }
  const added = await target.clients.cognito.send(
    new AddUserPoolClientSecretCommand({ UserPoolId: record.userPoolId, ClientId: record.clientId }),
  );
  const descriptor = added.ClientSecretDescriptor;
  if (!descriptor?.ClientSecretId || !descriptor.ClientSecretValue)
    throw new OperatorError('AddUserPoolClientSecret returned no generated secret.');
  // The partner reads AWSCURRENT: the new value, usable at once; AWSPREVIOUS keeps the old one for its switch.
  await target.clients.secrets.send(
    new PutSecretValueCommand({ SecretId: record.clientSecretName, SecretString: descriptor.ClientSecretValue }),
  );
  return { previousSecretId: previous[0].ClientSecretId, currentSecretId: descriptor.ClientSecretId };
}

export async function rotatePartnerSecret(
  target: Target,
  input: { clientId: string; graceMs: number; finish: boolean; force: boolean },
  now: () => Date,
): Promise<RotateResult> {
  let record = await readPartner(target, input.clientId);
  if (record.revokedAt)
    throw new OperatorError(`Partner ${record.name} (${record.clientId}) was revoked at ${record.revokedAt}.`);
  if (input.finish) return finishRotation(target, record, input.force, now);

  if (record.rotation) {
    if (now().getTime() < Date.parse(record.rotation.previousAcceptedUntil)) {
      throw new OperatorError(
        `A rotation of ${record.name} is in progress: its previous secret is accepted until ${record.rotation.previousAcceptedUntil}. ` +
          'Finish it first (rotate-secret --finish, after the deadline or with --force).',
      );
    }
    // The last rotation's deadline has passed: retire its previous secret before adding a new one (at most two).
    record = await deletePreviousSecret(target, record);
  }

  const { previousSecretId, currentSecretId } = await addClientSecret(target, record);
  const rotatedAt = now();
  const previousAcceptedUntil = iso(rotatedAt.getTime() + input.graceMs);
  record = {
    ...record,
    rotation: { previousSecretId, currentSecretId, rotatedAt: iso(rotatedAt), previousAcceptedUntil },
  };
  await writePartner(target, record, { create: false });
  return {
    clientId: record.clientId,
    partner: record.name,
    action: 'rotated',
    newSecretId: currentSecretId,
    secretStoredIn: record.clientSecretName,
    previousSecretId,
    previousAcceptedUntil,
    notes: [
      `The new secret works now; it is the AWSCURRENT version of ${record.clientSecretName} (the old value is AWSPREVIOUS).`,
      `The previous secret keeps working until ${previousAcceptedUntil} (${humanDuration(input.graceMs)}), so the partner can switch ` +
        `without downtime. After that, run: b2b partners rotate-secret ${record.clientId} --finish` +
        `${target.kind === 'aws' ? ` --stage ${target.stage}` : ''} (it refuses to cut the old secret off earlier).`,
    ],
  };
}

// -------------------------------------------------------------------------------------------------------------------
// revoke
// -------------------------------------------------------------------------------------------------------------------

export interface RevokeResult {
  clientId: string;
  partner: string;
  /** The first of apiKeyIds (every one of them is disabled). */
  apiKeyId: string;
  apiKeyIds: string[];
  apiKeyDisabled: boolean;
  appClientDeleted: boolean;
  allowlistRemoved: string[];
  secretsScheduledForDeletion: string[];
  /** Access tokens issued before now stay valid until their exp, at most this late. */
  issuedTokensValidUntil: string;
  accessTokenLifetimeMinutes: number;
  notes: string[];
}

export async function revokePartner(target: Target, clientId: string, now: () => Date): Promise<RevokeResult> {
  const record = await readPartner(target, clientId);
  if (record.revokedAt)
    throw new OperatorError(`Partner ${record.name} (${clientId}) was already revoked at ${record.revokedAt}.`);
  let client: UserPoolClientType | undefined;
  try {
    client = (
      await target.clients.cognito.send(
        new DescribeUserPoolClientCommand({ UserPoolId: record.userPoolId, ClientId: clientId }),
      )
    ).UserPoolClient;
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  // First the API keys: every tire API method requires one, so the partner's calls are refused (403) from now on.
  for (const apiKeyId of record.apiKeyIds) {
    await target.clients.apiGateway.send(
      new UpdateApiKeyCommand({
        apiKey: apiKeyId,
        patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }],
      }),
    );
  }
  // Then the app client: the token endpoint refuses it from the next request.
  let appClientDeleted = false;
  if (client) {
    await target.clients.cognito.send(
      new DeleteUserPoolClientCommand({ UserPoolId: record.userPoolId, ClientId: clientId }),
    );
    appClientDeleted = true;
  }
  const revokedAt = now();
  const lifetimeMs = tokenLifetimeMs(client, tireOrdersService.accessTokenValidityMinutes);

  // Its allowlist entries, unless another live partner calls from the same CIDR.
  const others = (await listPartners(target)).filter((other) => other.clientId !== clientId && !other.revokedAt);
  const stillUsed = new Set(others.flatMap((other) => other.cidrs));
  const removable = record.addedCidrs.filter((cidr) => !stillUsed.has(cidr));
  const allowlist =
    removable.length > 0
      ? await changeAllowlist(target, { remove: removable }, `b2b partners revoke ${record.name}`)
      : undefined;

  const scheduled: string[] = [];
  for (const secretName of [record.clientSecretName, record.apiKeySecretName]) {
    try {
      await target.clients.secrets.send(
        new DeleteSecretCommand({ SecretId: secretName, RecoveryWindowInDays: SECRET_RECOVERY_DAYS }),
      );
      scheduled.push(secretName);
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException' && (error as Error).name !== 'InvalidRequestException')
        throw error;
    }
  }
  // The handlers refuse the client from its record too (partner-revoked), within their cache's max age.
  await writePartner(target, { ...record, revokedAt: iso(revokedAt) }, { create: false });
  const validUntil = iso(revokedAt.getTime() + lifetimeMs);
  return {
    clientId,
    partner: record.name,
    apiKeyId: record.apiKeyIds[0]!,
    apiKeyIds: record.apiKeyIds,
    apiKeyDisabled: true,
    appClientDeleted,
    allowlistRemoved: allowlist ? [...new Set([...allowlist.ipSetChanged, ...allowlist.policyChanged])] : [],
    secretsScheduledForDeletion: scheduled,
    issuedTokensValidUntil: validUntil,
    accessTokenLifetimeMinutes: Math.round(lifetimeMs / 60_000),
    notes: [
      `API key ${record.apiKeyIds.join(', ')} disabled: the partner's next call to the tire API is refused with 403.`,
      `App client ${clientId} is deleted: no token can be issued to it any more.`,
      `Access tokens issued before now cannot be recalled (they are self-contained JWTs) and stay valid until their exp, ` +
        `at the latest ${validUntil} (${Math.round(lifetimeMs / 60_000)} min from now); they are useless without the API key.`,
      ...driftNote(target),
    ],
  };
}

// -------------------------------------------------------------------------------------------------------------------
// command specs
// -------------------------------------------------------------------------------------------------------------------

function requireClientId(value: string): string {
  if (!CLIENT_ID.test(value)) throw new UsageError(`"${value}" is not an app client id`);
  return value;
}

export const partnersOnboardCommand: CommandSpec = {
  path: ['partners', 'onboard'],
  summary: 'Onboard a partner of the supplier: app client, API key in the usage plan, allowlist entry',
  description: [
    'Creates an app client in the tire-orders user pool (client_credentials, the partner scopes), an API key in the',
    'partner usage plan, and allowlists the CIDRs (WAF IP set and resource policy, redeployed). The client secret',
    'and the API key go straight into Secrets Manager; the output names the secrets, never their values.',
    'If a step fails, the steps before it are undone.',
  ],
  positionals: [
    {
      name: 'NAME',
      description: 'Partner name: lowercase letters, digits, hyphens (used in secret names)',
      required: true,
    },
  ],
  options: {
    cidr: {
      type: 'string',
      multiple: true,
      required: true,
      valueName: 'CIDR',
      description: 'Source address range of the partner (IPv4, /8 or narrower)',
    },
    scope: {
      type: 'string',
      multiple: true,
      valueName: 'SCOPE',
      description: 'OAuth scope to allow (default: tire-orders/orders.write and orders.read)',
    },
    'reveal-secret': {
      type: 'boolean',
      description: 'Local runtime only: also print the new client secret, this once (refused with --stage)',
    },
  },
  examples: [
    'b2b partners onboard acme --cidr 203.0.113.10/32',
    'b2b partners onboard acme --cidr 127.0.0.5/32 --reveal-secret --json',
    'b2b partners onboard acme --cidr 203.0.113.0/28 --cidr 198.51.100.7/32 --stage dev',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const request = checkOnboardInput({
      name: input.positionals[0]!,
      cidrs: stringListOption(input, 'cidr'),
      scopes: stringListOption(input, 'scope'),
    });
    const revealSecret = booleanOption(input, 'reveal-secret');
    const result = await onboardPartner(await context.target(), { ...request, revealSecret }, context.progress, () =>
      context.now(),
    );
    return {
      data: result,
      human: [
        `Partner ${result.partner} onboarded.`,
        ...keyValues([
          ['client id', result.clientId],
          ['user pool', result.userPoolId],
          ['token endpoint', result.tokenUrl],
          ['scopes', result.scopes.join(' ')],
          ['client secret in', `Secrets Manager secret ${result.clientSecretStoredIn}`],
          ...(result.clientSecret
            ? [['client secret', `${result.clientSecret}  (shown once)`] as [string, string]]
            : []),
          ['API key id', `${result.apiKeyId} (usage plan ${result.usagePlanId})`],
          ['API key in', `Secrets Manager secret ${result.apiKeyStoredIn}`],
          [
            'allowlisted',
            `${result.cidrs.join(', ')}${result.allowlistAdded.length < result.cidrs.length ? ` (newly added: ${result.allowlistAdded.join(', ') || 'none'})` : ''}`,
          ],
        ]),
        ...result.notes.flatMap((note) => ['', `Note: ${note}`]),
      ],
    };
  },
};

export const partnersRotateSecretCommand: CommandSpec = {
  path: ['partners', 'rotate-secret'],
  summary: "Give a partner's app client a new secret, keeping the old one until a deadline",
  description: [
    'Adds a second client secret (AddUserPoolClientSecret): usable at once, and written as the new AWSCURRENT',
    "version of the partner's secret in Secrets Manager. The old secret keeps working until the deadline (--grace),",
    'so the partner switches without downtime. After the deadline, --finish deletes the old secret.',
  ],
  positionals: [{ name: 'CLIENT_ID', description: "The partner's app client id", required: true }],
  options: {
    grace: { type: 'string', valueName: 'DURATION', description: 'How long the old secret stays valid (default 24h)' },
    finish: { type: 'boolean', description: 'Delete the old secret once its deadline has passed' },
    force: { type: 'boolean', description: 'With --finish: delete the old secret before its deadline' },
  },
  examples: [
    'b2b partners rotate-secret 4f8k2example',
    'b2b partners rotate-secret 4f8k2example --grace 2h',
    'b2b partners rotate-secret 4f8k2example --finish',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const graceText = stringOption(input, 'grace');
    const graceMs = graceText ? parseDuration(graceText, 'grace') : 24 * 3_600_000;
    if (graceMs > 30 * 86_400_000) throw new UsageError('--grace must be at most 30d');
    const finish = booleanOption(input, 'finish');
    if (booleanOption(input, 'force') && !finish) throw new UsageError('--force only applies with --finish');
    if (graceText && finish) throw new UsageError('--grace does not apply with --finish');
    const clientId = requireClientId(input.positionals[0]!);
    const result = await rotatePartnerSecret(
      await context.target(),
      { clientId, graceMs, finish, force: booleanOption(input, 'force') },
      () => context.now(),
    );
    const lines =
      result.action === 'rotated'
        ? [
            `New secret ${result.newSecretId} for ${result.partner} (${result.clientId}), stored in Secrets Manager secret ${result.secretStoredIn}.`,
            ...keyValues([
              ['previous secret', result.previousSecretId],
              ['accepted until', result.previousAcceptedUntil],
            ]),
          ]
        : [`Rotation of ${result.partner} (${result.clientId}) finished.`];
    return { data: result, human: [...lines, ...result.notes.flatMap((note) => ['', `Note: ${note}`])] };
  },
};

export const partnersRevokeCommand: CommandSpec = {
  path: ['partners', 'revoke'],
  summary: 'Cut a partner off: disable its API key, delete its app client, remove its allowlist entries',
  description: [
    "The partner's API key is disabled first (its next call fails with 403), then its app client is deleted (no",
    'more tokens), its CIDRs leave the allowlist unless another partner uses them, and its secrets are scheduled',
    'for deletion (7-day recovery window). The output states until when already-issued tokens remain valid.',
  ],
  positionals: [{ name: 'CLIENT_ID', description: "The partner's app client id", required: true }],
  examples: ['b2b partners revoke 4f8k2example', 'b2b partners revoke 4f8k2example --stage dev --json'],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const clientId = requireClientId(input.positionals[0]!);
    const result = await revokePartner(await context.target(), clientId, () => context.now());
    return {
      data: result,
      human: [
        `Partner ${result.partner} (${result.clientId}) revoked.`,
        ...keyValues([
          ['API key', `${result.apiKeyIds.join(', ')} disabled`],
          ['app client', result.appClientDeleted ? 'deleted' : 'was already gone'],
          ['allowlist removed', result.allowlistRemoved.join(', ') || 'nothing (shared or not added by onboarding)'],
          ['secrets', result.secretsScheduledForDeletion.join(', ') || '-'],
          [
            'issued tokens',
            `valid until ${result.issuedTokensValidUntil} at the latest (lifetime ${result.accessTokenLifetimeMinutes} min)`,
          ],
        ]),
        ...result.notes.flatMap((note) => ['', `Note: ${note}`]),
      ],
    };
  },
};

export const partnersListCommand: CommandSpec = {
  path: ['partners', 'list'],
  summary: 'List the partners onboarded with this CLI',
  examples: ['b2b partners list', 'b2b partners list --stage dev --json'],
  async run(context: CommandContext): Promise<CommandResult> {
    const now = context.now();
    const partners = await listPartners(await context.target());
    return {
      data: { partners },
      human:
        partners.length === 0
          ? ['No partners onboarded.']
          : table(partners, [
              { header: 'NAME', value: (p) => p.name },
              { header: 'CLIENT ID', value: (p) => p.clientId },
              { header: 'API KEYS', value: (p) => p.apiKeyIds.join(' ') },
              { header: 'CIDRS', value: (p) => p.cidrs.join(' ') },
              { header: 'ONBOARDED', value: (p) => p.createdAt },
              {
                header: 'STATE',
                value: (p) =>
                  p.revokedAt
                    ? `revoked ${p.revokedAt}`
                    : p.rotation
                      ? Date.parse(p.rotation.previousAcceptedUntil) <= now.getTime()
                        ? `OVERDUE: old secret still accepted, deadline ${p.rotation.previousAcceptedUntil} passed; run rotate-secret ${p.clientId} --finish`
                        : `rotating: old secret until ${p.rotation.previousAcceptedUntil} (${relative(Date.parse(p.rotation.previousAcceptedUntil), now)})`
                      : 'active',
              },
            ]),
    };
  },
};
