import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AwsCredentials } from '../../client/runtime-description.js';

/**
 * The one access key the local AWS endpoint and store accept: generated once per state directory into
 * `<state-dir>/aws-credentials.json` (0600), kept across restarts (so a user's AWS CLI profile keeps working) and
 * new after `--fresh` (which removes the directory). The runtime hands it to its own functions and the CLI, and
 * publishes it in runtime.json for the user's AWS CLI/SDK.
 */
export type { AwsCredentials };

export const CREDENTIALS_FILE = 'aws-credentials.json';

const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomFrom(alphabet: string, length: number): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}

/** Shaped like an IAM user's long-term key: AKIA + 16 characters, a 40-character secret. */
export function generateCredentials(): AwsCredentials {
  return { accessKeyId: `AKIA${randomFrom(KEY_ID_ALPHABET, 16)}`, secretAccessKey: randomFrom(SECRET_ALPHABET, 40) };
}

/** The state directory's credentials, created on first use (exclusive create: two starters agree on one key). */
export function stateDirCredentials(stateDir: string): AwsCredentials {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, CREDENTIALS_FILE);
  try {
    writeFileSync(path, JSON.stringify(generateCredentials(), null, 2), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stored = JSON.parse(readFileSync(path, 'utf8')) as Partial<AwsCredentials>;
  if (typeof stored.accessKeyId !== 'string' || typeof stored.secretAccessKey !== 'string') {
    throw new Error(`${path} does not hold an access key; remove it to have a new one generated`);
  }
  return { accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey };
}
