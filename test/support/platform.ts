import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Template } from 'aws-cdk-lib/assertions';
import { buildPlatform, type Platform } from '../../bin/platform.js';

/**
 * Builds the platform the way bin/app.ts does, with the given CDK context. Lambda bundling is skipped (the
 * `aws:cdk:bundling-stacks` context) so template tests stay fast; `npx cdk synth` bundles for real.
 */
export function buildTestPlatform(
  context: Record<string, unknown> = {},
  options: { nag?: boolean; outdir?: string } = {},
): { app: App; platform: Platform } {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [], ...context },
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const platform = buildPlatform(app, { nag: options.nag ?? false });
  return { app, platform };
}

/** The configurations the platform supports (CDK context), by name: the nag and deploy-identity tests cover each. */
export const PLATFORM_CONFIGURATIONS: Record<string, Record<string, unknown>> = {
  default: {},
  'stage prod with partner CIDRs': { stage: 'prod', partnerCidrs: ['198.51.100.0/24'] },
  'outside supplier': {
    supplier: {
      apiUrl: 'https://tires.example.com/',
      tokenUrl: 'https://auth.tires.example.com/oauth2/token',
      clientId: 'car-maker',
      clientSecretName: 'partners/tires/client-secret',
      apiKeySecretName: 'partners/tires/api-key',
    },
  },
  'outside car maker': {
    carMaker: {
      apiUrl: 'https://cars.example.com/',
      tokenUrl: 'https://auth.cars.example.com/oauth2/token',
      clientId: 'tire-supplier',
      clientSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:partners/cars/client-secret-AbCdEf',
    },
    partnerCidrs: ['192.0.2.10/32'],
  },
};

export interface SynthesizedPlatform {
  app: App;
  platform: Platform;
  car?: Template;
  tire?: Template;
}

export function synthesizeTestPlatform(context: Record<string, unknown> = {}): SynthesizedPlatform {
  const { app, platform } = buildTestPlatform(context);
  return {
    app,
    platform,
    ...(platform.carOrders ? { car: Template.fromStack(platform.carOrders) } : {}),
    ...(platform.tireOrders ? { tire: Template.fromStack(platform.tireOrders) } : {}),
  };
}

export type Resource = {
  Type: string;
  Properties?: Record<string, any>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};

/** The template's resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

export function onlyResource(template: Template, type: string): [string, Resource] {
  const entries = Object.entries(resourcesOf(template, type));
  if (entries.length !== 1) throw new Error(`expected exactly one ${type}, found ${entries.length}`);
  return entries[0]!;
}

/** Logical id of the CloudFormation resource behind a construct (its default child when it is an L2). */
export function logicalIdOf(stack: Stack, construct: IConstruct): string {
  const cfn = (construct.node.defaultChild ?? construct) as CfnElement;
  return stack.resolve(cfn.logicalId) as string;
}

/**
 * Renders a CloudFormation string value (literal or Fn::Join of literals and intrinsics) with every intrinsic
 * replaced by a readable placeholder: `<Ref:Id>`, `<GetAtt:Id.Attr>`, `<Import:Name>`, `<AWS::Region>`.
 */
export function renderString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, any>;
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(renderString).join(separator);
    }
    if ('Ref' in v) return String(v.Ref).startsWith('AWS::') ? `<${v.Ref}>` : `<Ref:${v.Ref}>`;
    if ('Fn::GetAtt' in v) return `<GetAtt:${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::ImportValue' in v) return `<Import:${renderString(v['Fn::ImportValue'])}>`;
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** Every API Gateway resource's full path ("/orders/{id}"), by logical id. */
export function apiResourcePaths(template: Template): Map<string, string> {
  const resources = resourcesOf(template, 'AWS::ApiGateway::Resource');
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known) return known;
    const props = resources[id]!.Properties!;
    const parent = props.ParentId as { Ref?: string };
    const parentPath = parent.Ref ? pathOf(parent.Ref) : '';
    const path = `${parentPath}/${props.PathPart as string}`;
    paths.set(id, path);
    return path;
  };
  for (const id of Object.keys(resources)) pathOf(id);
  return paths;
}

/** The AWS::ApiGateway::Method for `METHOD /path`. */
export function apiMethod(template: Template, httpMethod: string, path: string): [string, Resource] {
  const paths = apiResourcePaths(template);
  const matches = Object.entries(resourcesOf(template, 'AWS::ApiGateway::Method')).filter(([, method]) => {
    const resourceId = method.Properties!.ResourceId as { Ref?: string };
    const methodPath = resourceId.Ref ? paths.get(resourceId.Ref) : '/';
    return method.Properties!.HttpMethod === httpMethod && methodPath === path;
  });
  if (matches.length !== 1) throw new Error(`expected one method ${httpMethod} ${path}, found ${matches.length}`);
  return matches[0]!;
}

export type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, any>;
};

/** All statements of the identity policies attached to a role (by the role's logical id). */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties!.Roles as { Ref: string }[]).some((role) => role.Ref === roleLogicalId))
    .flatMap((policy) => policy.Properties!.PolicyDocument.Statement as Statement[]);
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourcesOfStatement(statement: Statement): string[] {
  const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
  return resources.map(renderString);
}
