import { describe, expect, it } from 'vitest';
import { rebaseList, ReplaceableCidrSet } from '../../gateway/allowlist.js';
import {
  mapSourceIpLists,
  partnerAllowlistPolicy,
  PolicyDocumentError,
  ResourcePolicy,
  type PolicyDocument,
} from '../../gateway/resource-policy.js';

/** The resource policy evaluator and the replaceable allowlists behind the local WAF and API Gateway control plane. */

const CONTEXT = { region: 'us-east-1', accountId: '000000000000', apiId: 'abcde12345' };
const ARN = (path: string) => `arn:aws:execute-api:us-east-1:000000000000:abcde12345/local/${path}`;

describe('ResourcePolicy', () => {
  it('evaluates the stack’s allowlist policy: allowed inside the list, explicit deny outside', () => {
    const policy = ResourcePolicy.parse(partnerAllowlistPolicy(['127.0.0.2/32', '10.1.0.0/16']), CONTEXT);
    expect(policy.decide('127.0.0.2', ARN('POST/orders'))).toBe('allow');
    expect(policy.decide('10.1.200.3', ARN('GET/orders/1'))).toBe('allow');
    expect(policy.decide('::ffff:127.0.0.2', ARN('GET/orders/1'))).toBe('allow');
    expect(policy.decide('127.0.0.9', ARN('POST/orders'))).toBe('explicit-deny');
  });

  it('stores the execute-api:/ shorthand expanded to this API’s ARN, as API Gateway does', () => {
    const policy = ResourcePolicy.parse(partnerAllowlistPolicy(['127.0.0.2/32']), CONTEXT);
    expect(policy.document.Statement.map((statement) => statement.Resource)).toEqual([
      'arn:aws:execute-api:us-east-1:000000000000:abcde12345/*',
      'arn:aws:execute-api:us-east-1:000000000000:abcde12345/*',
    ]);
    expect(ResourcePolicy.parse(JSON.stringify(policy.document), CONTEXT).decide('127.0.0.2', ARN('GET/x'))).toBe(
      'allow',
    );
  });

  it('denies implicitly without a matching Allow, and honours resource, action and principal', () => {
    const allowGetOnly: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:*', Resource: 'execute-api:/local/GET/*' }],
    };
    const policy = ResourcePolicy.parse(allowGetOnly, CONTEXT);
    expect(policy.decide('127.0.0.9', ARN('GET/orders/1'))).toBe('allow');
    expect(policy.decide('127.0.0.9', ARN('POST/orders'))).toBe('implicit-deny');

    const otherAction = ResourcePolicy.parse(
      {
        Statement: [
          { Effect: 'Allow', Principal: { AWS: ['*'] }, Action: ['execute-api:ManageConnections'], Resource: '*' },
        ],
      },
      CONTEXT,
    );
    expect(otherAction.decide('127.0.0.9', ARN('GET/x'))).toBe('implicit-deny');

    // A named IAM principal never matches a Cognito-authenticated (anonymous to IAM) caller.
    const namedPrincipal = ResourcePolicy.parse(
      {
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::111111111111:root' },
            Action: 'execute-api:Invoke',
            Resource: '*',
          },
        ],
      },
      CONTEXT,
    );
    expect(namedPrincipal.decide('127.0.0.9', ARN('GET/x'))).toBe('implicit-deny');
  });

  it('reads IpAddress conditions, and bare addresses as single hosts', () => {
    const policy = ResourcePolicy.parse(
      {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 'execute-api:Invoke',
            Resource: '*',
            Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.9' } },
          },
        ],
      },
      CONTEXT,
    );
    expect(policy.decide('127.0.0.9', ARN('GET/x'))).toBe('allow');
    expect(policy.decide('127.0.0.10', ARN('GET/x'))).toBe('implicit-deny');
  });

  it('refuses documents it would otherwise evaluate wrongly', () => {
    const refused: unknown[] = [
      'not json',
      [],
      { Version: '2012-10-17' },
      { Version: '2099-01-01', Statement: [] },
      { Statement: [{ Effect: 'Allow', Principal: '*', NotAction: 'execute-api:Invoke', Resource: '*' }] },
      { Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] },
      { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: [] }] },
      {
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 'execute-api:Invoke',
            Resource: '*',
            Condition: { StringEquals: { 'aws:SourceVpce': 'v' } },
          },
        ],
      },
      {
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 'execute-api:Invoke',
            Resource: '*',
            Condition: { IpAddress: { 'aws:VpcSourceIp': '10.0.0.1' } },
          },
        ],
      },
      {
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 'execute-api:Invoke',
            Resource: '*',
            Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.1/33' } },
          },
        ],
      },
    ];
    for (const document of refused) {
      expect(() => ResourcePolicy.parse(document, CONTEXT), JSON.stringify(document)).toThrow(PolicyDocumentError);
    }
  });

  it('maps every aws:SourceIp list, leaving the rest of the document alone', () => {
    const document = partnerAllowlistPolicy(['127.0.0.2/32', '127.0.0.9/32']);
    const mapped = mapSourceIpLists(document, (list) => list.filter((cidr) => cidr !== '127.0.0.9/32'));
    expect(mapped.Statement[1]!.Condition).toEqual({ NotIpAddress: { 'aws:SourceIp': ['127.0.0.2/32'] } });
    expect(mapped.Statement[0]).toEqual(document.Statement[0]);
  });
});

describe('allowlists', () => {
  it('replaces a live CIDR list whole, keeping the old one when the new one is invalid', () => {
    const list = new ReplaceableCidrSet(['127.0.0.2/32']);
    expect(list.contains('127.0.0.9')).toBe(false);
    list.replace(['127.0.0.2/32', '127.0.0.9/32']);
    expect(list.contains('127.0.0.9')).toBe(true);
    expect(() => list.replace(['127.0.0.2/32', 'nonsense'])).toThrow();
    expect(list.cidrs).toEqual(['127.0.0.2/32', '127.0.0.9/32']);
  });

  it('re-bases a stored list: unchanged base keeps it exactly, a new base replaces the old base entries only', () => {
    expect(rebaseList(['127.0.0.9/32'], ['127.0.0.2/32'], ['127.0.0.2/32'])).toEqual(['127.0.0.9/32']);
    expect(rebaseList(['127.0.0.2/32', '127.0.0.9/32'], ['127.0.0.2/32'], ['127.0.0.4/32'])).toEqual([
      '127.0.0.4/32',
      '127.0.0.9/32',
    ]);
    expect(rebaseList(['127.0.0.2/32', '127.0.0.4/32'], ['127.0.0.2/32'], ['127.0.0.4/32'])).toEqual(['127.0.0.4/32']);
  });
});
