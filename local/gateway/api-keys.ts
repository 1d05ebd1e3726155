import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { JsonStore } from '../state/json-store.js';

/**
 * The API keys of one company's API, persisted under .local/ like API Gateway keeps them: an id (safe to log,
 * audit and hand to handlers as apiKeyId), a secret value, a name, an enabled flag and the usage plan the key
 * belongs to. A key that is disabled, unknown or not in the stage's usage plan gets 403 Forbidden at the gateway.
 *
 * The value is returned once by create() (and by revealValue() for the operator, like
 * `aws apigateway get-api-key --include-value`); nothing here logs it, and list() leaves it out.
 */
export interface ApiKeyRecord {
  id: string;
  value: string;
  name: string;
  enabled: boolean;
  createdAt: string;
  /** The usage plan the key is associated with; the gateway accepts the key only for that plan's stage. */
  usagePlanId?: string;
  description?: string;
  /** API Gateway's customerId (an AWS Marketplace customer); carried, not used. */
  customerId?: string;
  /** Set on the first change after creation (API Gateway's lastUpdatedDate). */
  updatedAt?: string;
}

/** What the gateway learns from a lookup: never the value. */
export interface ApiKeyIdentity {
  id: string;
  name: string;
  enabled: boolean;
  usagePlanId?: string;
}

export type ApiKeySummary = Omit<ApiKeyRecord, 'value'>;

interface ApiKeyDocument {
  keys: ApiKeyRecord[];
}

/** API Gateway's own minimum for an imported key value. */
const MIN_VALUE_LENGTH = 20;
const KEY_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const VALUE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export class ApiKeyRegistry {
  private store: JsonStore<ApiKeyDocument>;
  /** sha256(value) -> record, so a lookup never walks the values and compares them one by one. */
  private byDigest = new Map<string, ApiKeyRecord>();

  constructor(readonly path: string) {
    this.store = new JsonStore<ApiKeyDocument>(path, () => ({ keys: [] }));
    this.index();
  }

  /** Re-reads the file, for keys added or revoked by another process (e.g. the operator CLI). */
  reload(): void {
    this.store = new JsonStore<ApiKeyDocument>(this.path, () => ({ keys: [] }));
    this.index();
  }

  /**
   * Creates a key. Without `value`, generates a 40-character one (as API Gateway does); with one (e.g. a value
   * a partner already holds), it must be at least 20 characters and unused. Returns the id and the value.
   */
  create(input: {
    name: string;
    usagePlanId?: string;
    value?: string;
    enabled?: boolean;
    description?: string;
    customerId?: string;
  }): { id: string; value: string } {
    const name = input.name.trim();
    if (name === '') throw new Error('An API key needs a name');
    const value = input.value ?? randomString(VALUE_ALPHABET, 40);
    if (value.length < MIN_VALUE_LENGTH)
      throw new Error(`An API key value must be at least ${MIN_VALUE_LENGTH} characters`);
    if (this.byDigest.has(digest(value))) throw new Error('An API key with this value already exists');
    const record: ApiKeyRecord = {
      id: this.newId(),
      value,
      name,
      enabled: input.enabled ?? true,
      createdAt: new Date().toISOString(),
      ...(input.usagePlanId !== undefined ? { usagePlanId: input.usagePlanId } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.customerId !== undefined ? { customerId: input.customerId } : {}),
    };
    this.store.update((document) => {
      document.keys.push(record);
    });
    this.index();
    return { id: record.id, value };
  }

  enable(id: string): void {
    this.setEnabled(id, true);
  }

  disable(id: string): void {
    this.setEnabled(id, false);
  }

  /** Associates the key with a usage plan (or removes it from any plan with undefined). */
  setUsagePlan(id: string, usagePlanId: string | undefined): void {
    this.store.update((document) => {
      const record = findOrThrow(document, id);
      if (usagePlanId === undefined) delete record.usagePlanId;
      else record.usagePlanId = usagePlanId;
    });
    this.index();
  }

  /**
   * Changes a key's name, description, customer id or enabled flag (UpdateApiKey). Applied to the instance the
   * gateway reads, so disabling a key refuses its very next request.
   */
  update(
    id: string,
    change: { name?: string; description?: string; customerId?: string; enabled?: boolean },
  ): ApiKeySummary {
    if (change.name !== undefined && change.name.trim() === '') throw new Error('An API key needs a name');
    const updated = this.store.update((document) => {
      const record = findOrThrow(document, id);
      if (change.name !== undefined) record.name = change.name.trim();
      if (change.description !== undefined) record.description = change.description;
      if (change.customerId !== undefined) record.customerId = change.customerId;
      if (change.enabled !== undefined) record.enabled = change.enabled;
      record.updatedAt = new Date().toISOString();
      return summary(record);
    });
    this.index();
    return updated;
  }

  /** Deletes a key (DeleteApiKey): its value is refused from the next request on. */
  delete(id: string): void {
    this.store.update((document) => {
      findOrThrow(document, id);
      document.keys = document.keys.filter((key) => key.id !== id);
    });
    this.index();
  }

  /** The key holding this value, if any, without its value. */
  lookup(value: string): ApiKeyIdentity | undefined {
    const record = this.byDigest.get(digest(value));
    // The digest match is the lookup; the constant-time compare guards against a (theoretical) digest collision.
    if (!record || !sameString(record.value, value)) return undefined;
    return {
      id: record.id,
      name: record.name,
      enabled: record.enabled,
      ...(record.usagePlanId !== undefined ? { usagePlanId: record.usagePlanId } : {}),
    };
  }

  get(id: string): ApiKeySummary | undefined {
    const record = this.store.get().keys.find((key) => key.id === id);
    return record ? summary(record) : undefined;
  }

  list(): ApiKeySummary[] {
    return this.store.get().keys.map(summary);
  }

  /** The secret value, for the operator who must hand it to the partner. */
  revealValue(id: string): string {
    return findOrThrow(this.store.get(), id).value;
  }

  private setEnabled(id: string, enabled: boolean): void {
    this.update(id, { enabled });
  }

  private newId(): string {
    const taken = new Set(this.store.get().keys.map((key) => key.id));
    for (;;) {
      const id = randomString(KEY_ID_ALPHABET, 10);
      if (!taken.has(id)) return id;
    }
  }

  private index(): void {
    this.byDigest = new Map(this.store.get().keys.map((key) => [digest(key.value), key]));
  }
}

function findOrThrow(document: ApiKeyDocument, id: string): ApiKeyRecord {
  const record = document.keys.find((key) => key.id === id);
  if (!record) throw new Error(`No API key with id '${id}'`);
  return record;
}

function summary(record: ApiKeyRecord): ApiKeySummary {
  const { value: _value, ...rest } = record;
  return rest;
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Uniformly random characters (rejection sampling, so no alphabet character is favoured). */
function randomString(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}
