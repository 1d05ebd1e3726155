import type { AlarmView } from '../../../client/alarms.js';
import type { AuthorizationServer } from '../../identity/authorization-server.js';
import type { FunctionEnvironmentStats } from '../../lambda/index.js';
import type { LocalEventBridge } from '../eventbridge/bus.js';
import { AwsServiceError } from '../protocol.js';

/**
 * What the local operations read and change. They keep no state of their own: each acts on a part of the running
 * runtime that owns (and persists) its state, the authorization servers' keys and client secrets, the bridge's
 * archives, the alarm evaluator and the Lambda runtimes' pools.
 */

export interface LocalOperationsOptions {
  userPools: readonly AuthorizationServer[];
  bridge: LocalEventBridge;
  /** The runtime's evaluation of the declared alarms (local/alarms.ts). */
  alarms?: { evaluate(): AlarmView[] };
  /** The companies' local Lambda runtimes (local/lambda/pool.ts figures). */
  lambdas?: readonly { stats(): FunctionEnvironmentStats[] }[];
}

const notFound = (message: string) => new AwsServiceError('ResourceNotFoundException', message);

export class LocalRuntimeState {
  constructor(private readonly options: LocalOperationsOptions) {}

  pool(userPoolId: string): AuthorizationServer {
    const pool = this.options.userPools.find((candidate) => candidate.userPoolId === userPoolId);
    if (!pool) throw notFound(`User pool ${userPoolId} does not exist.`);
    return pool;
  }

  archivedEvents(archiveName: string) {
    return this.options.bridge.archivedEvents(archiveName);
  }

  alarms(): AlarmView[] {
    if (!this.options.alarms) throw notFound('This runtime evaluates no alarms.');
    return this.options.alarms.evaluate();
  }

  lambdaEnvironments(): FunctionEnvironmentStats[] {
    return (this.options.lambdas ?? []).flatMap((lambda) => lambda.stats());
  }
}
