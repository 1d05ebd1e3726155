import type { KeyRotation, SigningKeyState } from '../../client/local-operations.js';
import {
  OperatorError,
  stringOption,
  UsageError,
  type CommandContext,
  type CommandResult,
  type CommandSpec,
} from '../command.js';
import { describeSigningKeys, rotateSigningKeys } from '../../client/local-operations.js';
import { table } from '../output.js';
import type { Company, Target } from '../target.js';

/**
 * `b2b keys rotate` / `b2b keys list`: the signing keys of the local authorization servers. A rotation publishes a
 * new key in the JWKS at once and signs with it only after the publish lead (so verifiers' JWKS caches learn it
 * first); the superseded key stays published until the longest token it may have signed has expired. On AWS,
 * Amazon Cognito manages its user pools' signing keys itself and offers no operation to rotate them.
 */

const COGNITO_MANAGES_KEYS =
  'Amazon Cognito manages and rotates the signing keys of its user pools itself; there is no API to rotate them, ' +
  'and nothing was changed. Verifiers keep working because they read the pool JWKS by kid.';

export interface PoolKeys {
  company: Company;
  userPoolId: string;
  issuer: string;
  accessTokenValidityMinutes: number;
  rotation?: KeyRotation;
  keys: SigningKeyState[];
}

function companiesOf(input: string | undefined): Company[] {
  if (input === undefined || input === 'all') return ['car-orders', 'tire-orders'];
  if (input === 'car-orders' || input === 'tire-orders') return [input];
  throw new UsageError(`--company must be car-orders, tire-orders or all, not "${input}"`);
}

async function localOnly(target: Target): Promise<NonNullable<Target['local']>> {
  if (!target.local) throw new OperatorError(COGNITO_MANAGES_KEYS);
  return target.local;
}

export async function rotateKeys(target: Target, companies: Company[]): Promise<PoolKeys[]> {
  const local = await localOnly(target);
  const results: PoolKeys[] = [];
  for (const company of companies) {
    const pool = await target.resources.userPool(company);
    const rotated = await rotateSigningKeys(local, pool.id);
    results.push({
      company,
      userPoolId: pool.id,
      issuer: rotated.Issuer,
      accessTokenValidityMinutes: rotated.AccessTokenValidityMinutes,
      rotation: rotated.Rotation,
      keys: rotated.Keys,
    });
  }
  return results;
}

export async function listKeys(target: Target, companies: Company[]): Promise<PoolKeys[]> {
  const local = await localOnly(target);
  const results: PoolKeys[] = [];
  for (const company of companies) {
    const pool = await target.resources.userPool(company);
    const described = await describeSigningKeys(local, pool.id);
    results.push({
      company,
      userPoolId: pool.id,
      issuer: described.Issuer,
      accessTokenValidityMinutes: described.AccessTokenValidityMinutes,
      keys: described.Keys,
    });
  }
  return results;
}

function keyTable(keys: SigningKeyState[]): string[] {
  return table(keys, [
    { header: 'KID', value: (k) => k.kid },
    { header: 'STATUS', value: (k) => k.status },
    { header: 'PUBLISHED', value: (k) => k.publishedAt },
    { header: 'SIGNS FROM', value: (k) => k.signingFrom },
    { header: 'SIGNS UNTIL', value: (k) => k.signingUntil },
    { header: 'LEAVES JWKS', value: (k) => k.removedFromJwksAt },
  ]).map((line) => `  ${line}`);
}

function humanRotation(results: PoolKeys[]): string[] {
  const lines: string[] = [];
  for (const result of results) {
    const r = result.rotation!;
    if (lines.length > 0) lines.push('');
    lines.push(
      `${result.company} (${result.issuer}):`,
      `  new key ${r.newKid} published ${r.newKeyPublishedAt}, signs from ${r.newKeySigningFrom}`,
      `  previous key ${r.previousKid} signs until then and stays in the JWKS until ${r.previousKeyRemovedFromJwksAt}` +
        ` (the longest token lifetime, ${result.accessTokenValidityMinutes} min, after it stops signing)`,
      ...keyTable(result.keys),
    );
  }
  return lines;
}

function humanKeys(results: PoolKeys[]): string[] {
  const lines: string[] = [];
  for (const result of results) {
    if (lines.length > 0) lines.push('');
    lines.push(`${result.company} (${result.issuer}):`, ...keyTable(result.keys));
  }
  return lines;
}

const companyOption = {
  company: { type: 'string' as const, valueName: 'NAME', description: 'car-orders, tire-orders or all (default all)' },
};

export const keysRotateCommand: CommandSpec = {
  path: ['keys', 'rotate'],
  summary: "Rotate the local authorization servers' signing keys (local runtime only)",
  description: [
    'Publishes a new signing key in the JWKS now; it signs only after the publish lead (verifiers learn it first).',
    'The old key keeps signing until then and stays in the JWKS until the longest token lifetime has passed.',
    'On a deployed stage Cognito rotates its own keys: the command says so and changes nothing (exit code 1).',
  ],
  options: companyOption,
  examples: ['b2b keys rotate', 'b2b keys rotate --company tire-orders --json'],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const results = await rotateKeys(await context.target(), companiesOf(stringOption(input, 'company')));
    return { data: { pools: results }, human: humanRotation(results) };
  },
};

export const keysListCommand: CommandSpec = {
  path: ['keys', 'list'],
  summary: "List the local authorization servers' signing keys and their lifecycle (local runtime only)",
  options: companyOption,
  examples: ['b2b keys list', 'b2b keys list --company car-orders --json'],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const results = await listKeys(await context.target(), companiesOf(stringOption(input, 'company')));
    return { data: { pools: results }, human: humanKeys(results) };
  },
};
