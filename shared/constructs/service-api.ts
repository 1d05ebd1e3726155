import { GATEWAY_PROBLEMS, gatewayProblemTemplate } from '../gateway-problems.js';
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RouteDeclaration, ThrottleDeclaration } from '../declarations.js';
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
  functions: Record<F, lambda.IFunction>;
  userPool: cognito.IUserPool;
  /** Resource policy (the tire API's source-IP allowlist). */
  policy?: iam.PolicyDocument;
  logRetention?: logs.RetentionDays;
}

/** Errors API Gateway answers itself, reshaped as RFC 9457 problem+json like the handlers' errors. */
/** `/orders/{id}` -> `method.request.path.id`. */
function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((match) => `method.request.path.${match[1]}`);
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

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? DEFAULT_LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.restApi = new apigateway.RestApi(this, 'Api', {
      restApiName: props.apiName,
      description: props.description,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      ...(props.policy ? { policy: props.policy } : {}),
      // API Gateway writes execution logs through the account-level CloudWatch role; RETAIN keeps it when one
      // stage's stack is deleted while another stage still logs through it.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: props.stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: apigateway.AccessLogField.contextRequestId(),
            extendedRequestId: apigateway.AccessLogField.contextExtendedRequestId(),
            requestTime: apigateway.AccessLogField.contextRequestTime(),
            sourceIp: apigateway.AccessLogField.contextIdentitySourceIp(),
            httpMethod: apigateway.AccessLogField.contextHttpMethod(),
            resourcePath: apigateway.AccessLogField.contextResourcePath(),
            protocol: apigateway.AccessLogField.contextProtocol(),
            status: apigateway.AccessLogField.contextStatus(),
            responseLength: apigateway.AccessLogField.contextResponseLength(),
            responseLatency: apigateway.AccessLogField.contextResponseLatency(),
            integrationLatency: apigateway.AccessLogField.contextIntegrationLatency(),
            clientId: apigateway.AccessLogField.contextAuthorizerClaims('client_id'),
            apiKeyId: apigateway.AccessLogField.contextIdentityApiKeyId(),
            wafResponseCode: apigateway.AccessLogField.contextWafResponseCode(),
            errorType: apigateway.AccessLogField.contextErrorResponseType(),
            errorMessage: apigateway.AccessLogField.contextErrorMessage(),
            xrayTraceId: apigateway.AccessLogField.contextXrayTraceId(),
          }),
        ),
        loggingLevel: apigateway.MethodLoggingLevel.INFO,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: props.stageThrottle.rateLimit,
        throttlingBurstLimit: props.stageThrottle.burstLimit,
      },
    });

    // API Gateway writes execution logs to this group and would create it without retention; creating it first
    // with the platform's retention keeps "retention everywhere" true.
    this.executionLogGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.restApi.restApiId}/${props.stageName}`,
      retention: props.logRetention ?? DEFAULT_LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.restApi.deploymentStage.node.addDependency(this.executionLogGroup);

    // The stack outputs the URL under a readable name; drop RestApi's generated duplicate output.
    this.restApi.node.tryRemoveChild('Endpoint');

    const cloudWatchRole = this.restApi.node.findChild('CloudWatchRole');
    Validations.of(cloudWatchRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'API Gateway account-level CloudWatch role, shared by every REST API in the region: API Gateway itself ' +
        'creates the API-Gateway-Execution-Logs_{apiId}/{stage} log groups, which the AWS managed service-role ' +
        'policy is the documented grant for.',
    });

    for (const problem of GATEWAY_PROBLEMS) {
      this.restApi.addGatewayResponse(`Problem${problem.responseType}`, {
        type: apigateway.ResponseType.of(problem.responseType),
        ...(problem.status === undefined ? {} : { statusCode: String(problem.status) }),
        // Header values are mapping expressions: static values are single-quoted.
        responseHeaders: Object.fromEntries(
          Object.entries({ 'Content-Type': 'application/problem+json', ...problem.headers }).map(([k, v]) => [k, `'${v}'`]),
        ),
        templates: { 'application/json': gatewayProblemTemplate(problem) },
      });
    }

    this.authorizer = new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
      cognitoUserPools: [props.userPool],
      identitySource: apigateway.IdentitySource.header('Authorization'),
    });

    this.validator = this.restApi.addRequestValidator('Validator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });

    for (const route of props.routes) {
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
      const method = resource.addMethod(route.method, new apigateway.LambdaIntegration(props.functions[route.function]), {
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
  }

  get stage(): apigateway.Stage {
    return this.restApi.deploymentStage;
  }

  /** The stage's invoke URL, ending in "/". */
  get url(): string {
    return this.restApi.url;
  }
}
