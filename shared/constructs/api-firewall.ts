import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { WafRateLimitResponse } from '../capacity.js';
import { wafLogGroupName } from '../names.js';
import type { PartnerAllowlist } from './partner-allowlist.js';
import { DEFAULT_LOG_RETENTION } from './service-function.js';

export interface ApiFirewallProps {
  /** Stage-prefixed name (web ACL name, metric names, log group `aws-waf-logs-{name}`). */
  name: string;
  stage: apigateway.Stage;
  /** allow: customer-facing API; block: partner API where only the allowlist gets through. */
  defaultAction: 'allow' | 'block';
  /** AWS managed rule groups, evaluated first in this order (the service's firewall declaration). */
  managedRuleGroups: readonly string[];
  /** Requests per 5 minutes from one IP before the rate-based rule blocks it. */
  rateLimitPer5Minutes: number;
  /** The rate rule's custom block response (e.g. a 429 EventBridge retries); absent: WAF's 403. */
  rateLimitResponse?: WafRateLimitResponse;
  /** With defaultAction block: the partner addresses the web ACL allows. */
  allowlist?: PartnerAllowlist;
  logRetention?: logs.RetentionDays;
}

/** Headers whose values WAF must not write to its logs (bearer tokens, API keys). */
export const WAF_REDACTED_HEADERS = ['authorization', 'x-api-key'];

function visibility(metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName };
}

function managedRuleGroup(name: string, priority: number): wafv2.CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
    visibilityConfig: visibility(name),
  };
}

function rateLimitBlock(response: WafRateLimitResponse | undefined): wafv2.CfnWebACL.BlockActionProperty {
  if (!response) return {};
  return { customResponse: { responseCode: response.statusCode, customResponseBodyKey: response.bodyKey } };
}

/** The web ACL's custom response bodies: the rate rule's, when it has one. */
function customResponseBodies(props: ApiFirewallProps): Record<string, wafv2.CfnWebACL.CustomResponseBodyProperty> {
  const response = props.rateLimitResponse;
  return response ? { [response.bodyKey]: { contentType: response.contentType, content: response.body } } : {};
}

/** Managed rule groups first, then the per-IP rate rule, then (default block) the partner allow rule. */
function webAclRules(props: ApiFirewallProps): wafv2.CfnWebACL.RuleProperty[] {
  const rules = props.managedRuleGroups.map((name, priority) => managedRuleGroup(name, priority));
  rules.push({
    name: 'RateLimitPerIp',
    priority: rules.length,
    action: { block: rateLimitBlock(props.rateLimitResponse) },
    statement: { rateBasedStatement: { limit: props.rateLimitPer5Minutes, aggregateKeyType: 'IP' } },
    visibilityConfig: visibility('RateLimitPerIp'),
  });
  if (props.allowlist) {
    rules.push({
      name: 'AllowPartnerAddresses',
      priority: rules.length,
      action: { allow: {} },
      statement: { ipSetReferenceStatement: { arn: props.allowlist.ipSet.attrArn } },
      visibilityConfig: visibility('AllowPartnerAddresses'),
    });
  }
  return rules;
}

/**
 * A regional WAF web ACL on an API Gateway stage: AWS managed common rule set and known bad inputs, a per-IP
 * rate-based rule, optionally an allow rule for a partner IP set (evaluated after the blocking rules, so partner
 * traffic is still inspected), and logging to CloudWatch Logs with credentials redacted.
 */
export class ApiFirewall extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    if (props.defaultAction === 'block' && !props.allowlist) {
      throw new Error('ApiFirewall: a default-block web ACL needs an allowlist, or nobody could call the API');
    }

    const rules = webAclRules(props);
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: props.name,
      scope: 'REGIONAL',
      defaultAction: props.defaultAction === 'allow' ? { allow: {} } : { block: {} },
      rules,
      ...(props.rateLimitResponse ? { customResponseBodies: customResponseBodies(props) } : {}),
      visibilityConfig: visibility(props.name),
    });

    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

    // WAF only delivers to log groups whose name starts with aws-waf-logs-.
    const logGroupName = wafLogGroupName(props.name);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName,
      retention: props.logRetention ?? DEFAULT_LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const logging = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // The log group ARN without the ":*" suffix CloudFormation's Arn attribute carries.
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      redactedFields: WAF_REDACTED_HEADERS.map((name) => ({ singleHeader: { Name: name } })),
    });
    logging.node.addDependency(this.logGroup);
  }
}
