import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDbClient } from '../shared/aws/dynamodb-client.js';

/**
 * The real AWS SDK v3 clients every operation uses, against a deployed stage (default credential chain) or the
 * local runtime's AWS endpoint (with the access key the runtime publishes in its runtime.json; it verifies SigV4).
 */
export interface Clients {
  events: EventBridgeClient;
  dynamodb: DynamoDBDocumentClient;
  sqs: SQSClient;
  ssm: SSMClient;
  secrets: SecretsManagerClient;
  cognito: CognitoIdentityProviderClient;
  apiGateway: APIGatewayClient;
  waf: WAFV2Client;
  /** AWS only: the API access logs and function logs. */
  logs?: CloudWatchLogsClient;
  cloudFormation?: CloudFormationClient;
  /** AWS only: the stacks' alarms (locally the runtime evaluates them). */
  cloudWatch?: CloudWatchClient;
  /** AWS only: rotation deadlines (locally the token endpoint enforces them). */
  scheduler?: SchedulerClient;
}

/** What every client here is configured with (the subset of each client's config these callers set). */
interface ClientConfig {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  maxAttempts?: number;
}

/** `dynamodbEndpoint`: the runtime's DynamoDB store, called directly (runtime.json); else the AWS endpoint. */
export function localClients(
  endpoint: string,
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  dynamodbEndpoint?: string,
): Clients {
  const config = { endpoint, region, credentials, maxAttempts: 2 };
  return dataPlaneClients(config, dynamodbEndpoint ? { ...config, endpoint: dynamodbEndpoint } : config);
}

export function stageClients(region: string | undefined): Clients {
  const config: ClientConfig = region ? { region } : {};
  return {
    ...dataPlaneClients(config),
    logs: new CloudWatchLogsClient(config),
    cloudFormation: new CloudFormationClient(config),
    cloudWatch: new CloudWatchClient(config),
    scheduler: new SchedulerClient(config),
  };
}

function dataPlaneClients(config: ClientConfig, dynamodbConfig: ClientConfig = config): Clients {
  return {
    events: new EventBridgeClient(config),
    dynamodb: DynamoDBDocumentClient.from(dynamoDbClient(dynamodbConfig), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    sqs: new SQSClient(config),
    ssm: new SSMClient(config),
    secrets: new SecretsManagerClient(config),
    cognito: new CognitoIdentityProviderClient(config),
    apiGateway: new APIGatewayClient(config),
    waf: new WAFV2Client(config),
  };
}

export function destroyClients(clients: Clients): void {
  for (const client of Object.values(clients)) (client as { destroy(): void } | undefined)?.destroy();
}
