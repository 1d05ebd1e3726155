import type { AlarmView } from './alarms.js';
import type { Clients } from './aws-clients.js';
import type { RuntimeDescription } from './runtime-description.js';

/**
 * Where the platform's resources are and how to reach them, for a running local runtime (LocalLocator, from its
 * runtime.json) or a deployed stage (StackLocator, from its CloudFormation stacks). Operator tools (the CLI, the
 * console) act through this interface only, so they work the same on both and depend on neither local/ nor cli/.
 * Every handle is resolved once, on first use; a failed lookup is tried again on the next call.
 */
export interface ResourceLocator {
  readonly kind: 'local' | 'aws';
  readonly stage: string;
  /** For messages: "local runtime (.local, pid 1234)" or "stage dev (eu-west-1)". */
  readonly label: string;
  readonly clients: Clients;
  /** The local runtime's description and files; absent for a deployed stage. */
  readonly local?: LocalRuntimeInfo;
  /** The companies this target runs (a split deployment runs one). */
  companies(): Promise<Company[]>;
  eventBus(): Promise<EventBusHandle>;
  /** The archive on the supplier's bus (for replays after a failed delivery). */
  archive(): Promise<ArchiveHandle>;
  /** The supplier bus's rules with their targets. */
  rules(): Promise<RuleHandle[]>;
  /** A rule of the supplier's bus by its name or by its declared name. */
  rule(name: string): Promise<RuleHandle>;
  callbackRule(): Promise<RuleHandle>;
  /** The completion callback's dead-letter queue. */
  deadLetterQueueUrl(): Promise<string>;
  tables(): Promise<{ carOrders: string; tireOrders: string }>;
  userPool(company: Company): Promise<UserPoolHandle>;
  /** The user pools of the companies this target runs. */
  userPools(): Promise<UserPoolHandle[]>;
  restApi(company: Company): Promise<RestApiHandle>;
  /** The usage plan every partner API key belongs to. */
  usagePlan(): Promise<{ id: string; name: string }>;
  /** The WAF IP set of the supplier's allowlist (REGIONAL: the web ACL is on the API Gateway stage). */
  partnerIpSet(): Promise<IpSetHandle>;
  /** AWS: the API stage's access log group. */
  accessLogGroup(company: Company): Promise<string>;
  /** AWS: each declared function's log group; none locally (the audit log records what they did). */
  functionLogGroups(): Promise<FunctionLogGroup[]>;
  /** What a customer of the car maker orders with: the car API, its token endpoint and the customer app client. */
  customerAccess(): Promise<CustomerAccess>;
  /**
   * AWS: where a callback client rotation schedules its deadline (the car stack's outputs); undefined locally, where
   * the token endpoint enforces the deadline itself.
   */
  rotationDeadlineScheduler(): Promise<RotationDeadlineScheduler | undefined>;
  /** The declared alarms' states: CloudWatch's on AWS, the runtime's own evaluation locally. */
  alarms(): Promise<AlarmView[]>;
  close(): void;
}

export type Company = 'car-orders' | 'tire-orders';
export const COMPANIES: readonly Company[] = ['car-orders', 'tire-orders'];

export interface LocalRuntimeInfo {
  stateDir: string;
  description: RuntimeDescription;
  /** <state-dir>/audit.jsonl: every token, request, event and delivery the runtime recorded. */
  auditPath: string;
  awsEndpoint: string;
}

export interface EventBusHandle {
  name: string;
  arn: string;
}
export interface ArchiveHandle {
  name: string;
  arn: string;
  eventCount?: number;
  sizeBytes?: number;
  retentionDays?: number;
}
export interface RuleTargetHandle {
  id: string;
  arn: string;
  deadLetterArn?: string;
}
export interface RuleHandle {
  name: string;
  arn: string;
  eventPattern?: string;
  targets: RuleTargetHandle[];
}
export interface UserPoolHandle {
  company: Company;
  id: string;
  issuer: string;
  jwksUri: string;
  tokenUrl?: string;
}
export interface RestApiHandle {
  company: Company;
  id: string;
  name: string;
  stageName: string;
}
export interface IpSetHandle {
  name: string;
  id: string;
  scope: 'REGIONAL';
}
export interface FunctionLogGroup {
  company: Company;
  functionName: string;
  logGroupName: string;
}

/** The schedule group a rotation's deadline schedule goes in, and the role it runs as. */
export interface RotationDeadlineScheduler {
  groupName: string;
  roleArn: string;
}

/** The customer app client's credentials and where it calls (holds a secret: never print it). */
export interface CustomerAccess {
  /** The car API's stage URL (orders are POSTed to `${apiUrl}/orders`). */
  apiUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Where the secret was read from, for messages: "runtime.json" or the secret's ARN. */
  secretSource: string;
}
