import { join, resolve } from 'node:path';
import type { AlarmView } from './alarms.js';
import { ApiLocator } from './api-locator.js';
import { localClients } from './aws-clients.js';
import { OperatorError } from './errors.js';
import { describeLocalAlarms } from './local-operations.js';
import {
  COMPANIES,
  type Company,
  type CustomerAccess,
  type FunctionLogGroup,
  type LocalRuntimeInfo,
  type RuleHandle,
  type UserPoolHandle,
} from './locator.js';
import {
  AUDIT_FILE,
  isRunning,
  readRuntimeDescription,
  RUNTIME_FILE,
  type RuntimeDescription,
} from './runtime-description.js';

/** The runtime's access key; a runtime.json without one was written by a version that did not check signatures. */
function credentialsOf(description: RuntimeDescription): RuntimeDescription['awsCredentials'] {
  if (!description.awsCredentials?.accessKeyId || !description.awsCredentials.secretAccessKey) {
    throw new OperatorError(
      `The local runtime in ${description.stateDir} publishes no AWS credentials; restart it with "npm start".`,
    );
  }
  return description.awsCredentials;
}

/**
 * A running local runtime, located by its <state-dir>/runtime.json: the names and issuers it publishes there, and
 * the rest through its AWS endpoint like on AWS. It runs both companies.
 */
export class LocalLocator extends ApiLocator {
  readonly kind = 'local';
  readonly label: string;
  override readonly local: LocalRuntimeInfo;

  constructor(stateDir: string, description: RuntimeDescription) {
    super(
      description.stage,
      localClients(
        description.awsEndpoint,
        description.region,
        credentialsOf(description),
        description.dynamodbEndpoint,
      ),
    );
    this.label = `local runtime (${stateDir}, pid ${description.pid})`;
    this.local = { stateDir, description, auditPath: join(stateDir, AUDIT_FILE), awsEndpoint: description.awsEndpoint };
  }

  /** The runtime described in a state directory, refused when its process no longer runs. */
  static open(stateDir: string): LocalLocator {
    const directory = resolve(stateDir);
    const description = readRuntimeDescription(directory);
    if (!isRunning(description.pid)) {
      throw new OperatorError(
        `The local runtime described by ${join(directory, RUNTIME_FILE)} (pid ${description.pid}) is not running; start it with "npm start".`,
      );
    }
    return new LocalLocator(directory, description);
  }

  private get names(): RuntimeDescription['names'] {
    return this.local.description.names;
  }

  protected async eventBusName(): Promise<string> {
    return this.names.eventBus;
  }

  protected preferredArchive(): string {
    return this.names.archive;
  }

  protected callbackRuleName(): string {
    return this.names.callbackRule;
  }

  protected async deadLetterQueueFallback(rule: RuleHandle): Promise<string> {
    throw new OperatorError(`The targets of rule ${rule.name} have no dead-letter queue.`);
  }

  async companies(): Promise<Company[]> {
    return [...COMPANIES];
  }

  async tables(): Promise<{ carOrders: string; tireOrders: string }> {
    return { carOrders: this.names.carOrdersTable, tireOrders: this.names.tireOrdersTable };
  }

  async userPool(company: Company): Promise<UserPoolHandle> {
    const d = this.local.description;
    const issuer = company === 'car-orders' ? d.carIssuer : d.tireIssuer;
    return {
      company,
      id: issuer.slice(issuer.lastIndexOf('/') + 1),
      issuer,
      jwksUri: `${issuer}/.well-known/jwks.json`,
      tokenUrl: company === 'car-orders' ? d.carTokenUrl : d.tireTokenUrl,
    };
  }

  /** The demo customer the runtime creates and publishes in runtime.json. */
  async customerAccess(): Promise<CustomerAccess> {
    const d = this.local.description;
    return { apiUrl: d.carApiUrl, tokenUrl: d.carTokenUrl, ...d.customer, secretSource: RUNTIME_FILE };
  }

  /** The runtime evaluates the declared alarms itself, over what it counts. */
  alarms(): Promise<AlarmView[]> {
    return describeLocalAlarms(this.local);
  }

  /** Locally the audit log records what the functions did; their output goes to the runtime's log. */
  async functionLogGroups(): Promise<FunctionLogGroup[]> {
    return [];
  }

  /** The local token endpoint enforces a rotation's deadline itself (ScheduleClientSecretDeletion). */
  async rotationDeadlineScheduler(): Promise<undefined> {
    return undefined;
  }
}
