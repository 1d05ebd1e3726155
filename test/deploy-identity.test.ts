import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PLATFORM_CONFIGURATIONS, synthesizeTestPlatform, type Resource } from './support/platform.js';

/**
 * Deploy safety: a `cdk deploy` over an existing stage replaces a resource whose logical id changes, and renames one
 * whose physical name changes. For the retained tables (acknowledged orders), the user pools (every client id and
 * secret), the NAT Elastic IPs (the supplier's allowlist), the rule and the KMS alias that is an outage that every
 * other test would miss. This test holds every logical id, every physical-name property and every output/export of
 * both stacks, in each supported configuration, to the committed snapshot.
 *
 * A deliberate change regenerates it with `UPDATE_DEPLOY_IDENTITY=1 npx vitest run test/deploy-identity.test.ts`
 * and says why in the commit message.
 */

const SNAPSHOT = join(import.meta.dirname, 'snapshots', 'deploy-identity.json');

/** Top-level properties that set a resource's physical name (or, like a Cognito domain, an identity users see). */
const NAME_PROPERTY = /(^|[a-z])Name$|^Domain$|^Alias$/;

/**
 * API Gateway deployments are named by a hash of the API's shape, so that a changed API gets a new deployment: their
 * logical ids are expected to change and are recorded by count only.
 */
const HASH_NAMED_TYPES = new Set(['AWS::ApiGateway::Deployment']);

interface StackIdentity {
  resources: Record<string, { type: string; names?: Record<string, unknown> }>;
  hashNamed: Record<string, number>;
  outputs: Record<string, unknown>;
}

function identityOf(template: { toJSON(): Record<string, any> }): StackIdentity {
  const json = template.toJSON();
  const identity: StackIdentity = { resources: {}, hashNamed: {}, outputs: {} };
  for (const [logicalId, resource] of Object.entries(json.Resources as Record<string, Resource>)) {
    if (HASH_NAMED_TYPES.has(resource.Type)) {
      identity.hashNamed[resource.Type] = (identity.hashNamed[resource.Type] ?? 0) + 1;
      continue;
    }
    const names = Object.fromEntries(
      Object.entries(resource.Properties ?? {}).filter(([key]) => NAME_PROPERTY.test(key)),
    );
    identity.resources[logicalId] = { type: resource.Type, ...(Object.keys(names).length ? { names } : {}) };
  }
  for (const [outputId, output] of Object.entries((json.Outputs ?? {}) as Record<string, { Export?: unknown }>)) {
    identity.outputs[outputId] = output.Export ?? null;
  }
  return identity;
}

function currentIdentity(): Record<string, Record<string, StackIdentity>> {
  return Object.fromEntries(
    Object.entries(PLATFORM_CONFIGURATIONS).map(([name, context]) => {
      const { car, tire } = synthesizeTestPlatform(context);
      return [
        name,
        { ...(car ? { carOrders: identityOf(car) } : {}), ...(tire ? { tireOrders: identityOf(tire) } : {}) },
      ];
    }),
  );
}

describe('deploy identity (logical ids and physical names)', () => {
  it('matches the committed snapshot in every configuration', () => {
    const current = currentIdentity();
    if (process.env.UPDATE_DEPLOY_IDENTITY === '1') {
      writeFileSync(SNAPSHOT, `${JSON.stringify(current, null, 2)}\n`);
    }
    expect(existsSync(SNAPSHOT), `${SNAPSHOT} is missing`).toBe(true);
    const committed = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as typeof current;
    for (const config of Object.keys(PLATFORM_CONFIGURATIONS)) {
      expect(current[config], `configuration "${config}"`).toEqual(committed[config]);
    }
    expect(Object.keys(current).sort()).toEqual(Object.keys(committed).sort());
  });

  it('records the resources whose replacement would lose data or break a partner', () => {
    const committed = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as ReturnType<typeof currentIdentity>;
    const types = (stack: StackIdentity | undefined) =>
      new Set(Object.values(stack?.resources ?? {}).map((r) => r.type));
    const car = types(committed.default?.carOrders);
    const tire = types(committed.default?.tireOrders);
    for (const type of ['AWS::DynamoDB::Table', 'AWS::Cognito::UserPool', 'AWS::EC2::EIP', 'AWS::KMS::Alias']) {
      expect(car.has(type), type).toBe(true);
    }
    for (const type of [
      'AWS::DynamoDB::Table',
      'AWS::Cognito::UserPool',
      'AWS::Events::Rule',
      'AWS::Events::EventBus',
    ]) {
      expect(tire.has(type), type).toBe(true);
    }
  });
});
