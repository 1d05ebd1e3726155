import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnResource, Stack, Stage, Validations, type PolicyValidationPluginReport } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestPlatform, PLATFORM_CONFIGURATIONS } from './support/platform.js';

/**
 * cdk-nag 3 is a policy-validation plugin: findings are not annotations but violations in the plugin's report, and
 * an acknowledgement is `Validations.of(construct).acknowledge({ id, reason })` metadata that the pack honours on
 * the resource and its ancestors. validateScope() is the pack's own entry point for tests.
 */

const NAG_ACK_PREFIX = 'Annotation::AwsSolutions-';

interface Acknowledgement {
  path: string;
  construct: IConstruct;
  id: string;
  reason: string;
}

function acknowledgements(scope: IConstruct): Acknowledgement[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .filter(([id]) => id.startsWith(NAG_ACK_PREFIX))
      .map(([id, reason]) => ({ path: construct.node.path, construct, id: id.slice('Annotation::'.length), reason })),
  );
}

/** Runs AwsSolutions on a scope and records which acknowledgement (construct path + rule id) silenced each finding. */
function runAwsSolutions(scope: IConstruct): { report: PolicyValidationPluginReport; used: Set<string> } {
  const checks = new AwsSolutionsChecks();
  const used = new Set<string>();
  const pack = checks as unknown as { isAcknowledged(resource: CfnResource, ruleId: string): boolean };
  const original = pack.isAcknowledged.bind(checks);
  pack.isAcknowledged = (resource, ruleId) => {
    const acknowledged = original(resource, ruleId);
    if (acknowledged) {
      for (let current: IConstruct | undefined = resource; current; current = current.node.scope) {
        if (acknowledgements(current).some((ack) => ack.path === current!.node.path && ack.id === ruleId)) {
          used.add(`${current.node.path} ${ruleId}`);
          break;
        }
      }
    }
    return acknowledged;
  };
  return { report: checks.validateScope(scope), used };
}

function describeViolations(report: PolicyValidationPluginReport): string[] {
  return report.violations.map(
    (violation) =>
      `${violation.severity} ${violation.ruleName}: ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`,
  );
}

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe('cdk-nag AwsSolutions', () => {
  it('detects and reports findings with this cdk-nag and CDK version (the checks below are not vacuous)', () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'nag-negative-')) });
    outdirs.push(app.outdir);
    const stack = new Stack(app, 'Negative');
    new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    const { report } = runAwsSolutions(stack);
    expect(report.violations.map((violation) => violation.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS3', 'AwsSolutions-SQS4']),
    );
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
  });

  for (const [name, context] of Object.entries(PLATFORM_CONFIGURATIONS)) {
    describe(name, () => {
      const { platform } = buildTestPlatform(context);
      const stacks = [platform.carOrders, platform.tireOrders].filter(
        (stack): stack is NonNullable<typeof stack> => !!stack,
      );

      for (const stack of stacks) {
        it(`${stack.stackName}: no unacknowledged AwsSolutions errors or warnings`, () => {
          const { report } = runAwsSolutions(stack);
          expect(describeViolations(report)).toEqual([]);
          expect(report.success).toBe(true);
        });

        it(`${stack.stackName}: every acknowledgement sits on a resource, with a specific reason, and is needed`, () => {
          const acks = acknowledgements(stack);
          expect(acks.length).toBeGreaterThan(0);
          const { used } = runAwsSolutions(stack);
          for (const ack of acks) {
            expect(ack.construct, `${ack.path} ${ack.id}`).not.toBeInstanceOf(Stack);
            expect(ack.construct, `${ack.path} ${ack.id}`).not.toBeInstanceOf(Stage);
            expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThanOrEqual(80);
            expect(used, `stale acknowledgement ${ack.path} ${ack.id}`).toContain(`${ack.path} ${ack.id}`);
          }
        });

        it(`${stack.stackName}: CDK itself reports no warnings or errors`, () => {
          expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
          expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
        });
      }

      it('synthesizes with the AwsSolutions plugin registered, as bin/app.ts does', () => {
        const outdir = mkdtempSync(join(tmpdir(), 'nag-synth-'));
        outdirs.push(outdir);
        const registered = buildTestPlatform(context, { nag: true, outdir });
        expect(() => registered.app.synth()).not.toThrow();
      });
    });
  }
});
