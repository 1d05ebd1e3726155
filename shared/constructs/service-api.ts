import { gatewayProblemTemplate, type GatewayProblem } from '../gateway-problems.js';
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RouteDeclaration, ThrottleDeclaration } from '../declarations.js';
import type { WafRateLimitResponse } from '../capacity.js';
import { ApiFirewall } from './api-firewall.js';
import type { PartnerAllowlist } from './partner-allowlist.js';
import { requestModelSchema } from './json-schema.js';
import { DEFAULT_LOG_RETENTION } from './service-function.js';

export interface ServiceApiProps<F extends string> {
  /** Stage-prefixed API name. */
  apiName: string;
  description: string;
  /** API Gateway stage name (the platform stage, e.g. "dev"). */
  stageName: string;
  routes: readonly RouteDeclaration<F>[];
  stageThrottle: ThrottleDeclaration;
  /** The refusals API Gateway answers itself, as problem+json. */
  gatewayResponses: readonly GatewayProblem[];
  functions: Record<F, lambda.IFunction>;
  userPool: cognito.IUserPool;
  /** Resource policy (the tire API's source-IP allowlist). */
  policy?: iam.PolicyDocument;
  logRetention?: logs.RetentionDays;
}

/** `/orders/{id}` -> `method.request.path.id`. */
function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((match) => `method.request.path.${match[1]}`);
}

/** JSON access log line: who called (source IP, client id, API key id), what was decided, how long it took. */
function accessLogFormat(): apigateway.AccessLogFormat {
  const field = apigateway.AccessLogField;
  return apigateway.AccessLogFormat.custom(
    JSON.stringify({
      requestId: field.contextRequestId(),
      extendedRequestId: field.contextExtendedRequestId(),
      requestTime: field.contextRequestTime(),
      sourceIp: field.contextIdentitySourceIp(),
      httpMethod: field.contextHttpMethod(),
      resourcePath: field.contextResourcePath(),
      protocol: field.contextProtocol(),
      status: field.contextStatus(),
      responseLength: field.contextResponseLength(),
      responseLatency: field.contextResponseLatency(),
      integrationLatency: field.contextIntegrationLatency(),
      clientId: field.contextAuthorizerClaims('client_id'),
      apiKeyId: field.contextIdentityApiKeyId(),
      wafResponseCode: field.contextWafResponseCode(),
      errorType: field.contextErrorResponseType(),
      errorMessage: field.contextErrorMessage(),
      xrayTraceId: field.contextXrayTraceId(),
    }),
  );
}

function stageOptions(props: ServiceApiProps<string>, accessLogGroup: logs.LogGroup): apigateway.StageOptions {
  return {
    stageName: props.stageName,
    accessLogDestination: new apigateway.LogGroupLogDestination(accessLogGroup),
    accessLogFormat: accessLogFormat(),
    loggingLevel: apigateway.MethodLoggingLevel.INFO,
    dataTraceEnabled: false,
    metricsEnabled: true,
    tracingEnabled: true,
    throttlingRateLimit: props.stageThrottle.rateLimit,
    throttlingBurstLimit: props.stageThrottle.burstLimit,
  };
}

function acknowledgeCloudWatchRole(restApi: apigateway.RestApi): void {
  Validations.of(restApi.node.findChild('CloudWatchRole')).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    reason:
      'API Gateway account-level CloudWatch role, shared by every REST API in the region: API Gateway itself ' +
      'creates the API-Gateway-Execution-Logs_{apiId}/{stage} log groups, which the AWS managed service-role ' +
      'policy is the documented grant for.',
  });
}

/** Errors API Gateway answers itself, reshaped as RFC 9457 problem+json like the handlers' errors. */
function addGatewayResponses(restApi: apigateway.RestApi, problems: readonly GatewayProblem[]): void {
  for (const problem of problems) {
    restApi.addGatewayResponse(`Problem${problem.responseType}`, {
      type: apigateway.ResponseType.of(problem.responseType),
      ...(problem.status === undefined ? {} : { statusCode: String(problem.status) }),
      // Header values are mapping expressions: static values are single-quoted.
      responseHeaders: Object.fromEntries(
        Object.entries({ 'Content-Type': 'application/problem+json', ...problem.headers }).map(([k, v]) => [
          k,
          `'${v}'`,
        ]),
      ),
      templates: { 'application/json': gatewayProblemTemplate(problem) },
    });
  }
}

/**
 * A REST API built from a service's route declarations: one Cognito authorizer; per route a method requiring the
 * route's one OAuth scope (and the API key when declared), validated against a model generated from the route's
 * zod body, with a Lambda proxy integration. The stage has JSON access logs, INFO execution logs without data
 * trace (bodies and headers such as Authorization never reach the logs), X-Ray tracing and the declared throttle.
 */
export class ServiceApi<F extends string> extends Construct {
  readonly restApi: apigateway.RestApi;
  readonly accessLogGroup: logs.LogGroup;
  readonly executionLogGroup: logs.LogGroup;
  readonly authorizer: apigateway.CognitoUserPoolsAuthorizer;
  readonly validator: apigateway.RequestValidator;
  /** `${METHOD} ${path}` -> method. */
  readonly methods = new Map<string, apigateway.Method>();

  constructor(scope: Construct, id: string, props: ServiceApiProps<F>) {
    super(scope, id);
    const retention = props.logRetention ?? DEFAULT_LOG_RETENTION;
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention, removalPolicy: RemovalPolicy.DESTROY });

    this.restApi = new apigateway.RestApi(this, 'Api', {
      restApiName: props.apiName,
      description: props.description,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      ...(props.policy ? { policy: props.policy } : {}),
      // API Gateway writes execution logs through the account-level CloudWatch role; RETAIN keeps it when one
      // stage's stack is deleted while another stage still logs through it.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: stageOptions(props, this.accessLogGroup),
    });

    // API Gateway writes execution logs to this group and would create it without retention; creating it first
    // with the platform's retention keeps "retention everywhere" true.
    this.executionLogGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.restApi.restApiId}/${props.stageName}`,
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.restApi.deploymentStage.node.addDependency(this.executionLogGroup);

    // The stack outputs the URL under a readable name; drop RestApi's generated duplicate output.
    this.restApi.node.tryRemoveChild('Endpoint');
    acknowledgeCloudWatchRole(this.restApi);
    addGatewayResponses(this.restApi, props.gatewayResponses);

    this.authorizer = new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
      cognitoUserPools: [props.userPool],
      identitySource: apigateway.IdentitySource.header('Authorization'),
    });
    this.validator = this.restApi.addRequestValidator('Validator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    for (const route of props.routes) this.addRoute(route, props.functions[route.function]);
  }

  private addRoute(route: RouteDeclaration<F>, fn: lambda.IFunction): void {
    const resource = this.restApi.root.resourceForPath(route.path);
    const requestParameters = Object.fromEntries([
      ...pathParameters(route.path).map((name) => [name, true] as const),
      ...(route.requiredHeaders ?? []).map((header) => [`method.request.header.${header}`, true] as const),
    ]);
    const model = route.body
      ? this.restApi.addModel(`${route.method}${route.path.replace(/[^A-Za-z0-9]/g, '')}Body`, {
          contentType: 'application/json',
          description: `${route.method} ${route.path} request body`,
          schema: requestModelSchema(route.body),
        })
      : undefined;
    const method = resource.addMethod(route.method, new apigateway.LambdaIntegration(fn), {
      authorizationType: apigateway.AuthorizationType.COGNITO,
      authorizer: this.authorizer,
      authorizationScopes: [route.scope],
      apiKeyRequired: route.apiKeyRequired,
      requestValidator: this.validator,
      ...(Object.keys(requestParameters).length > 0 ? { requestParameters } : {}),
      ...(model ? { requestModels: { 'application/json': model } } : {}),
    });
    this.methods.set(`${route.method} ${route.path}`, method);
  }

  get stage(): apigateway.Stage {
    return this.restApi.deploymentStage;
  }

  /** The stage's invoke URL, ending in "/". */
  get url(): string {
    return this.restApi.url;
  }
}

/** What serviceApiWithFirewall reads of a service declaration. */
export interface DeclaredApiService<F extends string> {
  routes: readonly RouteDeclaration<F>[];
  api: { description: string; gatewayResponses: readonly GatewayProblem[] };
  firewall: { defaultAction: 'allow' | 'block'; allowlist?: 'partners'; managedRuleGroups: readonly string[] };
  stageThrottle: ThrottleDeclaration;
  wafRateLimitPer5Minutes: number;
  wafRateLimitResponse?: WafRateLimitResponse;
}

export interface ServiceApiWithFirewallProps<F extends string> {
  service: DeclaredApiService<F>;
  /** Stage-prefixed API (and web ACL) name from shared/names.ts. */
  apiName: string;
  stageName: string;
  functions: Record<F, lambda.IFunction>;
  userPool: cognito.IUserPool;
  /** The firewall's partner allowlist (a default-block service): also the API's resource policy. */
  allowlist?: PartnerAllowlist;
  logRetention?: logs.RetentionDays;
}

/**
 * A service's API and the web ACL in front of it, both from its declaration (routes, description, gateway
 * responses, stage throttle; default action, managed rule groups, rate rule, allowlist). Created as "Api" and
 * "Firewall" in `scope` (the stack), the construct ids the stacks always had.
 */
export function serviceApiWithFirewall<F extends string>(
  scope: Construct,
  props: ServiceApiWithFirewallProps<F>,
): { api: ServiceApi<F>; firewall: ApiFirewall } {
  const { service } = props;
  if ((service.firewall.allowlist !== undefined) !== (props.allowlist !== undefined)) {
    throw new Error(
      'serviceApiWithFirewall: pass an allowlist exactly when the service declares one (firewall.allowlist)',
    );
  }
  const api = new ServiceApi(scope, 'Api', {
    apiName: props.apiName,
    description: service.api.description,
    stageName: props.stageName,
    routes: service.routes,
    stageThrottle: service.stageThrottle,
    gatewayResponses: service.api.gatewayResponses,
    functions: props.functions,
    userPool: props.userPool,
    ...(props.allowlist ? { policy: props.allowlist.policyDocument() } : {}),
    ...(props.logRetention ? { logRetention: props.logRetention } : {}),
  });
  const firewall = new ApiFirewall(scope, 'Firewall', {
    name: props.apiName,
    stage: api.stage,
    defaultAction: service.firewall.defaultAction,
    managedRuleGroups: service.firewall.managedRuleGroups,
    rateLimitPer5Minutes: service.wafRateLimitPer5Minutes,
    ...(service.wafRateLimitResponse ? { rateLimitResponse: service.wafRateLimitResponse } : {}),
    ...(props.allowlist ? { allowlist: props.allowlist } : {}),
    ...(props.logRetention ? { logRetention: props.logRetention } : {}),
  });
  return { api, firewall };
}
