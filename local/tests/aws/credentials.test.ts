import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CREDENTIALS_FILE, stateDirCredentials } from '../../aws/credentials.js';

/** The runtime's access key: one per state directory, kept across restarts, private. */
const dirs: string[] = [];
const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'local-credentials-'));
  dirs.push(dir);
  return dir;
};

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('state directory credentials', () => {
  it('generates an AKIA key and a 40-character secret once, 0600, and returns the same on the next start', () => {
    const dir = newDir();
    const first = stateDirCredentials(dir);
    expect(first.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(first.secretAccessKey).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(statSync(join(dir, CREDENTIALS_FILE)).mode & 0o777).toBe(0o600);
    expect(stateDirCredentials(dir)).toEqual(first);
  });

  it('gives a fresh state directory (after --fresh removes it) a new key', () => {
    const dir = newDir();
    const before = stateDirCredentials(dir);
    rmSync(dir, { recursive: true, force: true });
    const after = stateDirCredentials(dir);
    expect(after.accessKeyId).not.toBe(before.accessKeyId);
    expect(after.secretAccessKey).not.toBe(before.secretAccessKey);
  });
});
