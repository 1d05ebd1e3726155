import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiKeyRegistry } from '../../gateway/api-keys.js';

let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'api-keys-'));
  path = join(dir, 'tire-orders', 'api-keys.json');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('ApiKeyRegistry', () => {
  it('creates a key with a generated 40-character value and finds it by value, without revealing the value', () => {
    const registry = new ApiKeyRegistry(path);
    const created = registry.create({ name: 'car maker', usagePlanId: 'partners' });
    expect(created.value).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(created.id).toMatch(/^[a-z0-9]{10}$/);
    const found = registry.lookup(created.value);
    expect(found).toEqual({ id: created.id, name: 'car maker', enabled: true, usagePlanId: 'partners' });
    expect(JSON.stringify(found)).not.toContain(created.value);
    expect(registry.lookup(`${created.value}x`)).toBeUndefined();
    expect(registry.lookup('')).toBeUndefined();
  });

  it('gives every key its own value and id', () => {
    const registry = new ApiKeyRegistry(path);
    const keys = Array.from({ length: 20 }, (_, i) => registry.create({ name: `k${i}` }));
    expect(new Set(keys.map((k) => k.value)).size).toBe(20);
    expect(new Set(keys.map((k) => k.id)).size).toBe(20);
  });

  it('imports a value a partner already holds, refusing short or duplicate values', () => {
    const registry = new ApiKeyRegistry(path);
    const value = 'partner-supplied-key-value-0001';
    expect(registry.create({ name: 'imported', value }).value).toBe(value);
    expect(registry.lookup(value)?.name).toBe('imported');
    expect(() => registry.create({ name: 'again', value })).toThrow(/already exists/);
    expect(() => registry.create({ name: 'short', value: 'too-short' })).toThrow(/at least 20/);
    expect(() => registry.create({ name: '  ' })).toThrow(/name/);
  });

  it('disables and re-enables a key', () => {
    const registry = new ApiKeyRegistry(path);
    const { id, value } = registry.create({ name: 'car maker' });
    registry.disable(id);
    expect(registry.lookup(value)?.enabled).toBe(false);
    registry.enable(id);
    expect(registry.lookup(value)?.enabled).toBe(true);
    expect(() => registry.disable('nope')).toThrow(/No API key/);
  });

  it('moves a key between usage plans', () => {
    const registry = new ApiKeyRegistry(path);
    const { id, value } = registry.create({ name: 'car maker' });
    expect(registry.lookup(value)?.usagePlanId).toBeUndefined();
    registry.setUsagePlan(id, 'partners');
    expect(registry.lookup(value)?.usagePlanId).toBe('partners');
    registry.setUsagePlan(id, undefined);
    expect(registry.lookup(value)?.usagePlanId).toBeUndefined();
  });

  it('persists keys and their state across instances, and reload() sees changes made elsewhere', () => {
    const first = new ApiKeyRegistry(path);
    const { id, value } = first.create({ name: 'car maker', usagePlanId: 'partners' });
    const second = new ApiKeyRegistry(path);
    expect(second.lookup(value)?.id).toBe(id);

    second.disable(id);
    expect(first.lookup(value)?.enabled).toBe(true); // first still holds what it read
    first.reload();
    expect(first.lookup(value)?.enabled).toBe(false);
    expect(JSON.parse(readFileSync(path, 'utf8')).keys[0]).toMatchObject({ id, name: 'car maker', enabled: false });
  });

  it('lists and gets keys without their values; revealValue is the one way to read a value back', () => {
    const registry = new ApiKeyRegistry(path);
    const { id, value } = registry.create({ name: 'car maker' });
    const listed = registry.list();
    expect(listed).toEqual([{ id, name: 'car maker', enabled: true, createdAt: expect.any(String) }]);
    expect(JSON.stringify(listed)).not.toContain(value);
    expect(registry.get(id)).toEqual(listed[0]);
    expect(registry.get('missing')).toBeUndefined();
    expect(registry.revealValue(id)).toBe(value);
  });
});
