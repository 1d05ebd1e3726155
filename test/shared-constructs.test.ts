import { App, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ApiFirewall,
  assertStage,
  grantTableAccess,
  isIpv4Cidr,
  PartnerAllowlist,
  requestModelSchema,
  toApiGatewaySchema,
} from '../shared/constructs/index.js';

describe('requestModelSchema (zod -> API Gateway draft-4 model)', () => {
  it('keeps every constraint of a strict object, nested arrays and unions', () => {
    const schema = z.strictObject({
      id: z
        .string()
        .regex(/^[a-z]+$/)
        .min(2)
        .max(8),
      count: z.number().int().min(1).max(5).default(1),
      tags: z
        .array(z.enum(['a', 'b']))
        .max(3)
        .optional(),
      either: z.union([z.strictObject({ a: z.string() }), z.strictObject({ b: z.number() })]),
      scalar: z.union([z.string(), z.number()]),
    });
    const model = requestModelSchema(schema);
    expect(model).toEqual({
      schema: apigateway.JsonSchemaVersion.DRAFT4,
      type: apigateway.JsonSchemaType.OBJECT,
      properties: {
        id: { type: apigateway.JsonSchemaType.STRING, pattern: '^[a-z]+$', minLength: 2, maxLength: 8 },
        count: { type: apigateway.JsonSchemaType.INTEGER, minimum: 1, maximum: 5, default: 1 },
        tags: {
          type: apigateway.JsonSchemaType.ARRAY,
          maxItems: 3,
          items: { type: apigateway.JsonSchemaType.STRING, enum: ['a', 'b'] },
        },
        either: {
          anyOf: [
            {
              type: apigateway.JsonSchemaType.OBJECT,
              properties: { a: { type: apigateway.JsonSchemaType.STRING } },
              required: ['a'],
              additionalProperties: false,
            },
            {
              type: apigateway.JsonSchemaType.OBJECT,
              properties: { b: { type: apigateway.JsonSchemaType.NUMBER } },
              required: ['b'],
              additionalProperties: false,
            },
          ],
        },
        scalar: { type: [apigateway.JsonSchemaType.STRING, apigateway.JsonSchemaType.NUMBER] },
      },
      required: ['id', 'either', 'scalar'],
      additionalProperties: false,
    });
  });

  it('renders in a template exactly as zod wrote it', () => {
    const stack = new Stack(new App(), 'Models');
    const api = new apigateway.RestApi(stack, 'Api');
    api.root.addMethod('GET');
    const schema = z.strictObject({ name: z.string().min(1), when: z.iso.datetime() });
    api.addModel('Body', { contentType: 'application/json', schema: requestModelSchema(schema) });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: z.toJSONSchema(schema, { target: 'draft-4', io: 'input' }),
    });
  });

  it('refuses keywords it would otherwise drop', () => {
    expect(() => toApiGatewaySchema({ type: 'string', contentEncoding: 'base64' }, '#')).toThrow(/contentEncoding/);
    expect(() => toApiGatewaySchema({ $ref: '#/definitions/x' }, '#')).toThrow(/\$ref/);
    expect(() => toApiGatewaySchema({ $schema: 'https://json-schema.org/draft/2020-12/schema' }, '#')).toThrow(
      /draft-04/,
    );
  });
});

describe('PartnerAllowlist', () => {
  it('derives the IP set and the resource policy from one list', () => {
    const stack = new Stack(new App(), 'Allowlist');
    const allowlist = new PartnerAllowlist(stack, 'Partners', {
      name: 'partners',
      cidrs: ['192.0.2.1/32', '198.51.100.0/24'],
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::WAFv2::IPSet', { Addresses: ['192.0.2.1/32', '198.51.100.0/24'] });
    const [allow, deny] = allowlist.policyStatements().map((statement) => stack.resolve(statement.toStatementJson()));
    expect(allow).toMatchObject({ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' });
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Action: 'execute-api:Invoke',
      Condition: { NotIpAddress: { 'aws:SourceIp': ['192.0.2.1/32', '198.51.100.0/24'] } },
    });
  });

  it('rejects an empty list and anything that is not an IPv4 CIDR', () => {
    const stack = new Stack(new App(), 'Invalid');
    expect(() => new PartnerAllowlist(stack, 'Empty', { name: 'x', cidrs: [] })).toThrow(/at least one CIDR/);
    expect(() => new PartnerAllowlist(stack, 'Bad', { name: 'x', cidrs: ['192.0.2.1'] })).toThrow(/not an IPv4 CIDR/);
    expect(isIpv4Cidr('10.0.0.0/8')).toBe(true);
    for (const bad of ['256.0.0.1/32', '10.0.0.0/33', '2001:db8::/32', '10.0.0/24'])
      expect(isIpv4Cidr(bad)).toBe(false);
  });
});

describe('ApiFirewall', () => {
  it('refuses a default-block web ACL without an allowlist', () => {
    const stack = new Stack(new App(), 'Firewall');
    const api = new apigateway.RestApi(stack, 'Api');
    api.root.addMethod('GET');
    expect(
      () =>
        new ApiFirewall(stack, 'Waf', {
          name: 'x',
          stage: api.deploymentStage,
          defaultAction: 'block',
          managedRuleGroups: [],
          rateLimitPer5Minutes: 100,
        }),
    ).toThrow(/needs an allowlist/);
  });
});

describe('grantTableAccess', () => {
  it('grants Query on exactly the named declared index, and refuses an undeclared one', () => {
    const stack = new Stack(new App(), 'Grants');
    const table = new dynamodb.Table(stack, 'Table', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const declaration = {
      description: 'test',
      partitionKey: { name: 'id', type: 'S' as const },
      indexes: [{ name: 'byState', partitionKey: { name: 'state', type: 'S' as const } }],
    };
    grantTableAccess(role, table, declaration, { access: 'read', queriesIndexes: ['byState'] });
    const statements = Template.fromStack(stack).toJSON().Resources;
    const policy = Object.values(statements as Record<string, any>).find((r) => r.Type === 'AWS::IAM::Policy');
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Action: expect.not.arrayContaining(['dynamodb:PutItem']) }),
      expect.objectContaining({
        Action: 'dynamodb:Query',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.any(String), 'Arn'] }, '/index/byState']] },
      }),
    ]);
    expect(() => grantTableAccess(role, table, declaration, { access: 'read', queriesIndexes: ['byOther'] })).toThrow(
      /byOther/,
    );
  });
});

describe('assertStage', () => {
  it('accepts short lowercase DNS-safe stages only', () => {
    expect(assertStage('dev')).toBe('dev');
    expect(assertStage('pr-42')).toBe('pr-42');
    for (const bad of ['', 'Dev', '1dev', 'dev_1', 'a'.repeat(21)])
      expect(() => assertStage(bad)).toThrow(/must match/);
  });
});
