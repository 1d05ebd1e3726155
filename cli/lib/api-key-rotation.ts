import {
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
} from '@aws-sdk/client-api-gateway';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { CONNECTION_CACHE_SECONDS } from '../../car-orders/adapters/supplier-connection.js';
import { partnerKeyBindingName } from '../../shared/names.js';
import type { PartnerKeyBinding, PartnerRecord } from '../../shared/partners.js';
import { PARTNER_RECORD_MAX_AGE_SECONDS } from '../../tire-orders/adapters/partner-binding.js';
import { OperatorError } from '../command.js';
import { UndoSteps } from './undo.js';
import type { Target } from '../target.js';
import { iso } from '../time.js';
import { readSecretValue } from './callback-rotation.js';
import { listPartnerRecords } from './partner-records.js';
import { deleteRotationState, readRotationState, writeRotationState, type RotationState } from './rotation-state.js';

/**
 * Rotation of the car maker's API key for the supplier's API (CarMakerApiKey). An API key's value cannot change, so
 * a rotation creates a new key, adds it to the usage plan, binds it for the car maker next to the old one (with the
 * old one's deadline, which the tire handlers' binding check enforces), and only then switches the secret the car
 * maker reads. After the grace the old key leaves the plan and the binding. The binding is a parameter of its own
 * next to the stack's partner record (partnerKeyBindingName), so the stack's record is never written here.
 */

/** The longest a consumer may keep the old key: the car maker's secret cache and the handlers' record cache. */
export const API_KEY_CACHE_MAX_AGE_MS = Math.max(CONNECTION_CACHE_SECONDS, PARTNER_RECORD_MAX_AGE_SECONDS) * 1000;

export interface ApiKeyRotationResult {
  action: 'rotated' | 'finished';
  clientId: string;
  newApiKeyId?: string;
  previousApiKeyId: string;
  usagePlanId: string;
  secretStoredIn: string;
  previousAcceptedUntil?: string;
  enforcement?: string;
  notes: string[];
}

/** The car maker's partner record: the one the stack writes (managedBy "stack"). */
export async function carMakerRecord(target: Target): Promise<PartnerRecord> {
  const records = (await listPartnerRecords(target)).filter((record) => record.managedBy === 'stack');
  if (records.length !== 1)
    throw new OperatorError(`Expected the car maker's partner record on ${target.label}, found ${records.length}.`);
  return records[0]!;
}

/**
 * The car maker's keys go in their own parameter next to the stack's record, which no template declares: a later
 * deploy that rewrites the record (new CIDRs, scopes) leaves them bound.
 */
async function writeKeyBinding(target: Target, clientId: string, binding: PartnerKeyBinding): Promise<void> {
  await target.clients.ssm.send(
    new PutParameterCommand({
      Name: partnerKeyBindingName(target.names.partnerRecordPath, clientId),
      Type: 'String',
      Value: JSON.stringify(binding),
      Overwrite: true,
      Description: "b2b rotate supplier-api-key: the car maker's API key ids (served instead of the stack record's)",
    }),
  );
}

function bindingOf(record: PartnerRecord): PartnerKeyBinding {
  return {
    apiKeyIds: record.apiKeyIds,
    ...(record.apiKeyDeadlines ? { apiKeyDeadlines: record.apiKeyDeadlines } : {}),
  };
}

async function createKey(target: Target, usagePlanId: string, now: Date): Promise<{ id: string; value: string }> {
  const created = await target.clients.apiGateway.send(
    new CreateApiKeyCommand({
      name: `${target.stage}-car-maker-${now.getTime()}`,
      description: `The car maker's API key, rotated in at ${iso(now)} by b2b rotate supplier-api-key`,
      enabled: true,
    }),
  );
  if (!created.id || !created.value) throw new OperatorError('CreateApiKey returned no key id or value.');
  const id = created.id;
  try {
    await target.clients.apiGateway.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId: id, keyType: 'API_KEY' }));
  } catch (error) {
    await target.clients.apiGateway.send(new DeleteApiKeyCommand({ apiKey: id }));
    throw error;
  }
  return { id, value: created.value };
}

export async function rotateSupplierApiKey(
  target: Target,
  input: { graceMs: number; now: () => Date },
  progress: (line: string) => void,
): Promise<ApiKeyRotationResult> {
  const record = await carMakerRecord(target);
  if (record.apiKeyIds.length !== 1)
    throw new OperatorError(`The car maker has ${record.apiKeyIds.length} API keys; finish the last rotation first.`);
  const previousApiKeyId = record.apiKeyIds[0]!;
  const usagePlan = await target.resources.usagePlan();
  const secretId = target.names.tireApiKeySecret;
  const previousValue = await readSecretValue(target, secretId);
  const rotatedAt = input.now();
  const deadline = iso(rotatedAt.getTime() + input.graceMs);
  progress(`Creating a new API key in usage plan ${usagePlan.name}`);
  const created = await createKey(target, usagePlan.id, rotatedAt);
  const bound: PartnerKeyBinding = {
    apiKeyIds: [previousApiKeyId, created.id],
    apiKeyDeadlines: { ...record.apiKeyDeadlines, [previousApiKeyId]: deadline },
  };
  try {
    progress(`Binding it in the car maker's partner record; ${previousApiKeyId} is served until ${deadline}`);
    await writeKeyBinding(target, record.clientId, bound);
    progress(`Switching ${secretId} (what the car maker sends) to the new key`);
    await target.clients.secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: created.value }));
  } catch (error) {
    progress('Undoing: the previous key stays the only one');
    // Each undo step runs even when one before it fails, so the new key never outlives a failed rotation.
    const undo = new UndoSteps();
    undo.add(`API key ${created.id}`, () =>
      target.clients.apiGateway.send(new DeleteApiKeyCommand({ apiKey: created.id })),
    );
    undo.add("the car maker's key binding", () => writeKeyBinding(target, record.clientId, bindingOf(record)));
    undo.add(`secret ${secretId}`, () =>
      target.clients.secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: previousValue })),
    );
    await undo.run(progress);
    throw error;
  }
  const state: RotationState = {
    kind: 'supplier-api-key',
    subject: record.clientId,
    previousId: previousApiKeyId,
    currentId: created.id,
    rotatedAt: iso(rotatedAt),
    previousAcceptedUntil: deadline,
  };
  await writeRotationState(target, state);
  return apiKeyRotated(target, state, usagePlan.id);
}

function apiKeyRotated(target: Target, state: RotationState, usagePlanId: string): ApiKeyRotationResult {
  const enforcement =
    "the supplier's handlers refuse the previous key from the deadline on (partner record apiKeyDeadlines)";
  return {
    action: 'rotated',
    clientId: state.subject,
    newApiKeyId: state.currentId,
    previousApiKeyId: state.previousId,
    usagePlanId,
    secretStoredIn: target.names.tireApiKeySecret,
    previousAcceptedUntil: state.previousAcceptedUntil,
    enforcement,
    notes: [
      `The car maker sends the new key within ${CONNECTION_CACHE_SECONDS} s (its secret cache); a function still ` +
        'holding the old one after the deadline is refused once (403) and re-reads the secret.',
      `The previous key ${state.previousId} stops working at ${state.previousAcceptedUntil}: ${enforcement}. ` +
        '--finish then takes it out of the usage plan and the record.',
      `The keys are bound in ${partnerKeyBindingName(target.names.partnerRecordPath, state.subject)}, next to ` +
        "the stack's record: a deploy that rewrites the record leaves them bound.",
    ],
  };
}

export async function finishSupplierApiKeyRotation(
  target: Target,
  input: { force: boolean; now: () => Date },
): Promise<ApiKeyRotationResult> {
  const state = await readRotationState(target, 'supplier-api-key');
  if (!state) throw new OperatorError('No rotation of the supplier API key is in progress.');
  if (input.now().getTime() < Date.parse(state.previousAcceptedUntil) && !input.force) {
    throw new OperatorError(
      `The previous key is accepted until ${state.previousAcceptedUntil}; run --finish after it, or add --force.`,
    );
  }
  const usagePlan = await target.resources.usagePlan();
  const record = await carMakerRecord(target);
  const { [state.previousId]: _finished, ...deadlines } = record.apiKeyDeadlines ?? {};
  const remaining = record.apiKeyIds.filter((id) => id !== state.previousId);
  if (remaining.length === 0)
    throw new OperatorError(`The car maker has no API key bound besides ${state.previousId}; nothing is changed.`);
  try {
    await target.clients.apiGateway.send(
      new DeleteUsagePlanKeyCommand({ usagePlanId: usagePlan.id, keyId: state.previousId }),
    );
  } catch (error) {
    if ((error as Error).name !== 'NotFoundException') throw error;
  }
  await writeKeyBinding(target, record.clientId, {
    apiKeyIds: remaining,
    ...(Object.keys(deadlines).length > 0 ? { apiKeyDeadlines: deadlines } : {}),
  });
  await deleteRotationState(target, 'supplier-api-key');
  return {
    action: 'finished',
    clientId: state.subject,
    previousApiKeyId: state.previousId,
    usagePlanId: usagePlan.id,
    secretStoredIn: target.names.tireApiKeySecret,
    notes: [`The previous key ${state.previousId} left usage plan ${usagePlan.name} and the car maker's key binding.`],
  };
}
