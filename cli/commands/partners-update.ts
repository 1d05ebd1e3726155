import { GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import {
  DescribeUserPoolClientCommand,
  UpdateUserPoolClientCommand,
  type UserPoolClientType,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { parseBinding, parseRecord } from '../../client/partners.js';
import { partnerKeyBindingName } from '../../shared/names.js';
import { withKeyBinding, type PartnerRecord as SharedPartnerRecord } from '../../shared/partners.js';
import {
  OperatorError,
  stringListOption,
  UsageError,
  type CommandContext,
  type CommandResult,
  type CommandSpec,
} from '../command.js';
import { canonicalCidr, changeAllowlist } from '../lib/allowlist.js';
import { listPartners, readPartner, writePartner, type PartnerRecord } from '../lib/partner-records.js';
import { keyValues } from '../output.js';
import type { Target } from '../target.js';
import { checkOnboardInput } from './partners.js';

/**
 * `b2b partners show|update`: one partner's record with what AWS holds for it (its app client's scopes, its API keys'
 * state; never a key's value or a secret), and the changes a partner asks for after onboarding: another source
 * range, a range it gave up, other scopes. The tire-orders handlers read the record (partner binding, cached at most
 * 60 s), so every change goes to the record and to each enforcement point it has: the allowlist (WAF IP set and
 * resource policy) and the app client's allowed scopes.
 */

/** The handlers' partner-record cache (Powertools Parameters, maxAge 60 s): a change binds within this. */
const RECORD_CACHE_SECONDS = 60;

export interface PartnerView {
  record: SharedPartnerRecord;
  appClient?: { exists: boolean; scopes: string[]; accessTokenValidityMinutes?: number };
  apiKeys: { id: string; name?: string; enabled?: boolean; missing?: boolean }[];
  state: string;
}

/** The record with the API keys a rotation bound for it (the keys that are served). */
async function readAnyRecord(target: Target, clientId: string): Promise<SharedPartnerRecord> {
  const name = target.names.partnerRecord(clientId);
  let record: SharedPartnerRecord;
  try {
    const result = await target.clients.ssm.send(new GetParameterCommand({ Name: name }));
    record = parseRecord(name, result.Parameter?.Value);
  } catch (error) {
    if ((error as Error).name !== 'ParameterNotFound') throw error;
    throw new OperatorError(`No partner record for client id ${clientId} on ${target.label} (no parameter ${name}).`);
  }
  const bindingName = partnerKeyBindingName(target.names.partnerRecordPath, clientId);
  try {
    const result = await target.clients.ssm.send(new GetParameterCommand({ Name: bindingName }));
    return withKeyBinding(record, parseBinding(bindingName, result.Parameter?.Value));
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return record;
    throw error;
  }
}

async function describeClient(target: Target, record: SharedPartnerRecord): Promise<UserPoolClientType | undefined> {
  const userPoolId = record.userPoolId ?? (await target.resources.userPool('tire-orders')).id;
  try {
    const described = await target.clients.cognito.send(
      new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: record.clientId }),
    );
    return described.UserPoolClient;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

async function apiKeyState(target: Target, id: string): Promise<PartnerView['apiKeys'][number]> {
  try {
    // includeValue stays false: the view never holds a key's value.
    const key = await target.clients.apiGateway.send(new GetApiKeyCommand({ apiKey: id, includeValue: false }));
    return { id, name: key.name, enabled: key.enabled };
  } catch (error) {
    if ((error as Error).name === 'NotFoundException') return { id, missing: true };
    throw error;
  }
}

function stateOf(record: SharedPartnerRecord, now: Date): string {
  if (record.revokedAt) return `revoked ${record.revokedAt}`;
  if (!record.rotation) return 'active';
  const deadline = record.rotation.previousAcceptedUntil;
  return Date.parse(deadline) <= now.getTime()
    ? `rotation overdue: deadline ${deadline} passed`
    : `rotating: old secret accepted until ${deadline}`;
}

export async function showPartner(target: Target, clientId: string, now: Date): Promise<PartnerView> {
  const record = await readAnyRecord(target, clientId);
  const client = await describeClient(target, record);
  const apiKeys = await Promise.all(record.apiKeyIds.map((id) => apiKeyState(target, id)));
  return {
    record,
    appClient: {
      exists: client !== undefined,
      scopes: client?.AllowedOAuthScopes ?? [],
      ...(client?.AccessTokenValidity !== undefined ? { accessTokenValidityMinutes: client.AccessTokenValidity } : {}),
    },
    apiKeys,
    state: stateOf(record, now),
  };
}

export interface UpdateRequest {
  addCidrs: string[];
  removeCidrs: string[];
  scopes?: string[];
}

export interface UpdateResult {
  partner: string;
  clientId: string;
  cidrs: string[];
  scopes: string[];
  allowlistAdded: string[];
  allowlistRemoved: string[];
  scopesChanged: boolean;
  notes: string[];
}

/** The update's arguments, checked before anything is touched (the same rules as onboarding's). */
export function checkUpdateInput(record: PartnerRecord, request: UpdateRequest): UpdateRequest {
  if (request.addCidrs.length + request.removeCidrs.length === 0 && request.scopes === undefined) {
    throw new UsageError('nothing to change: give --add-cidr, --remove-cidr or --scope');
  }
  const addCidrs = [...new Set(request.addCidrs.map(canonicalCidr))].filter((cidr) => !record.cidrs.includes(cidr));
  const removeCidrs = [...new Set(request.removeCidrs.map(canonicalCidr))];
  const notHeld = removeCidrs.filter((cidr) => !record.cidrs.includes(cidr));
  if (notHeld.length > 0) {
    throw new UsageError(`${notHeld.join(', ')} is not one of ${record.name}'s CIDRs (${record.cidrs.join(', ')})`);
  }
  const remaining = [...record.cidrs.filter((cidr) => !removeCidrs.includes(cidr)), ...addCidrs];
  if (remaining.length === 0) {
    throw new UsageError(`${record.name} would have no CIDR left: revoke the partner instead`);
  }
  // Onboarding's checks: canonical CIDRs no wider than allowed, declared scopes only.
  const checked = checkOnboardInput({ name: record.name, cidrs: remaining, scopes: request.scopes });
  return { addCidrs, removeCidrs, ...(request.scopes !== undefined ? { scopes: checked.scopes } : {}) };
}

/** UpdateUserPoolClient resets every setting it is not given: restate the client's configuration, new scopes only. */
async function updateScopes(target: Target, record: PartnerRecord, scopes: string[]): Promise<boolean> {
  const client = await describeClient(target, record);
  if (!client) throw new OperatorError(`App client ${record.clientId} of ${record.name} no longer exists.`);
  const current = client.AllowedOAuthScopes ?? [];
  if (current.length === scopes.length && scopes.every((scope) => current.includes(scope))) return false;
  await target.clients.cognito.send(
    new UpdateUserPoolClientCommand({
      UserPoolId: record.userPoolId,
      ClientId: record.clientId,
      ClientName: client.ClientName,
      AccessTokenValidity: client.AccessTokenValidity,
      IdTokenValidity: client.IdTokenValidity,
      RefreshTokenValidity: client.RefreshTokenValidity,
      TokenValidityUnits: client.TokenValidityUnits,
      ExplicitAuthFlows: client.ExplicitAuthFlows,
      SupportedIdentityProviders: client.SupportedIdentityProviders,
      AllowedOAuthFlows: client.AllowedOAuthFlows,
      AllowedOAuthFlowsUserPoolClient: client.AllowedOAuthFlowsUserPoolClient,
      AllowedOAuthScopes: scopes,
      EnableTokenRevocation: client.EnableTokenRevocation,
      PreventUserExistenceErrors: client.PreventUserExistenceErrors,
      AuthSessionValidity: client.AuthSessionValidity,
    }),
  );
  return true;
}

/** CIDRs the partner gives up leave the allowlist only if this CLI added them and no other live partner uses them. */
async function removableCidrs(target: Target, record: PartnerRecord, removeCidrs: string[]): Promise<string[]> {
  const others = (await listPartners(target)).filter((other) => other.clientId !== record.clientId && !other.revokedAt);
  const stillUsed = new Set(others.flatMap((other) => other.cidrs));
  return removeCidrs.filter((cidr) => record.addedCidrs.includes(cidr) && !stillUsed.has(cidr));
}

export async function updatePartner(target: Target, clientId: string, request: UpdateRequest): Promise<UpdateResult> {
  const record = await readPartner(target, clientId);
  if (record.revokedAt)
    throw new OperatorError(`Partner ${record.name} (${clientId}) was revoked at ${record.revokedAt}.`);
  const change = checkUpdateInput(record, request);
  const reason = `b2b partners update ${record.name}`;
  // New ranges go on the allowlist before the record names them, so the binding never admits what WAF refuses.
  const added =
    change.addCidrs.length > 0 ? await changeAllowlist(target, { add: change.addCidrs }, reason) : undefined;
  const allowlistAdded = [...new Set([...(added?.ipSetChanged ?? []), ...(added?.policyChanged ?? [])])];
  const scopesChanged = change.scopes ? await updateScopes(target, record, change.scopes) : false;
  const cidrs = [...record.cidrs.filter((cidr) => !change.removeCidrs.includes(cidr)), ...change.addCidrs];
  const next: PartnerRecord = {
    ...record,
    cidrs,
    scopes: change.scopes ?? record.scopes,
    addedCidrs: [...record.addedCidrs.filter((cidr) => !change.removeCidrs.includes(cidr)), ...allowlistAdded],
  };
  await writePartner(target, next, { create: false });
  // Ranges given up leave the allowlist after the record stops naming them.
  const removable = await removableCidrs(target, record, change.removeCidrs);
  const removed = removable.length > 0 ? await changeAllowlist(target, { remove: removable }, reason) : undefined;
  return {
    partner: record.name,
    clientId,
    cidrs,
    scopes: next.scopes,
    allowlistAdded,
    allowlistRemoved: [...new Set([...(removed?.ipSetChanged ?? []), ...(removed?.policyChanged ?? [])])],
    scopesChanged,
    notes: [
      `The tire API reads partner records with a cache of at most ${RECORD_CACHE_SECONDS} s: the change binds within that.`,
      ...(scopesChanged ? ['Tokens issued before now keep the scopes they were issued with until they expire.'] : []),
      ...(target.kind === 'aws'
        ? ['Add the CIDRs to the partnerCidrs context too: the next deploy resets the IP set and the resource policy.']
        : []),
    ],
  };
}

function requireClientId(value: string): string {
  if (!/^[\w+]{1,128}$/.test(value)) throw new UsageError(`"${value}" is not an app client id`);
  return value;
}

function showLines(view: PartnerView): string[] {
  const { record } = view;
  return [
    `Partner ${record.name} (${record.clientId}), ${record.managedBy === 'stack' ? 'the stack' : 'this CLI'}'s record`,
    ...keyValues([
      ['state', view.state],
      ['app client', view.appClient?.exists ? `scopes ${view.appClient.scopes.join(' ')}` : 'deleted'],
      ['record scopes', record.scopes.join(' ')],
      ['CIDRs', record.cidrs.join(' ')],
      [
        'API keys',
        view.apiKeys
          .map((key) => `${key.id} ${key.missing ? '(deleted)' : key.enabled ? '(enabled)' : '(disabled)'}`)
          .join(', '),
      ],
      ['onboarded', record.createdAt],
      ['last rotated', record.lastRotatedAt],
      ['client secret in', record.clientSecretName],
      ['API key in', record.apiKeySecretName],
    ]),
  ];
}

export const partnersShowCommand: CommandSpec = {
  path: ['partners', 'show'],
  summary: "One partner: its record, app client scopes, API keys' state and rotation (never a secret)",
  positionals: [{ name: 'CLIENT_ID', description: "The partner's app client id", required: true }],
  examples: ['b2b partners show xshob3b6nsdmgew07wy47aabrz', 'b2b partners show xshob3b6nsdmgew07wy47aabrz --json'],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const clientId = requireClientId(input.positionals[0]!);
    const view = await showPartner(await context.target(), clientId, context.now());
    return { data: view, human: showLines(view) };
  },
};

export const partnersUpdateCommand: CommandSpec = {
  path: ['partners', 'update'],
  summary: "Change an onboarded partner's CIDRs or scopes (record, allowlist and app client together)",
  description: [
    'Adds or removes source ranges (WAF IP set, resource policy and the partner record the tire API binds requests',
    "to) and replaces the app client's allowed scopes. A range leaves the allowlist only if this CLI added it and no",
    'other live partner uses it.',
  ],
  positionals: [{ name: 'CLIENT_ID', description: "The partner's app client id", required: true }],
  options: {
    'add-cidr': { type: 'string', multiple: true, valueName: 'CIDR', description: 'Source range to add' },
    'remove-cidr': { type: 'string', multiple: true, valueName: 'CIDR', description: 'Source range to remove' },
    scope: {
      type: 'string',
      multiple: true,
      valueName: 'SCOPE',
      description: 'The scopes the client may request from now on (replaces the list)',
    },
  },
  examples: [
    'b2b partners update xshob3b6nsdmgew07wy47aabrz --add-cidr 198.51.100.0/28',
    'b2b partners update xshob3b6nsdmgew07wy47aabrz --remove-cidr 203.0.113.10/32 --json',
    'b2b partners update xshob3b6nsdmgew07wy47aabrz --scope tire-orders/orders.read',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const clientId = requireClientId(input.positionals[0]!);
    const scopes = stringListOption(input, 'scope');
    const result = await updatePartner(await context.target(), clientId, {
      addCidrs: stringListOption(input, 'add-cidr'),
      removeCidrs: stringListOption(input, 'remove-cidr'),
      ...(scopes.length > 0 ? { scopes } : {}),
    });
    return {
      data: result,
      human: [
        `Partner ${result.partner} (${result.clientId}) updated.`,
        ...keyValues([
          ['CIDRs', result.cidrs.join(' ')],
          ['allowlist added', result.allowlistAdded.join(' ') || 'none'],
          ['allowlist removed', result.allowlistRemoved.join(' ') || 'none'],
          ['scopes', `${result.scopes.join(' ')}${result.scopesChanged ? ' (changed)' : ''}`],
        ]),
        ...result.notes.flatMap((note) => ['', `Note: ${note}`]),
      ],
    };
  },
};
