import type { AuthorizationServer } from '../../identity/authorization-server.js';
import type { ClientDetails } from '../../identity/client-registry.js';
import { byKey } from '../pagination.js';
import { AwsServiceError } from '../protocol.js';

/**
 * The user pools' state as cognito-idp sees it: each pool is a running local authorization server, whose client
 * registry holds (and persists, under `{stateDir}/identity/{company}/`) its app clients and their secrets. Changes go
 * to that registry, so the token endpoint follows them at once.
 */

export interface LocalUserPool {
  /** The user pool name the stack gives it: `${stage}-${service}`, e.g. local-tire-orders. */
  name: string;
  server: AuthorizationServer;
  resourceServer: {
    identifier: string;
    name: string;
    /** Scope name -> description, as in the service declaration. */
    scopes: Readonly<Record<string, string>>;
  };
  /** The Cognito domain prefix the stack would give the pool. */
  domain?: string;
}

const notFound = (message: string) => new AwsServiceError('ResourceNotFoundException', message);

export class UserPoolStore {
  private readonly byId: Map<string, LocalUserPool>;

  constructor(pools: readonly LocalUserPool[]) {
    this.byId = new Map(pools.map((pool) => [pool.server.userPoolId, pool]));
  }

  /** Every pool in id order (the order page tokens assume). */
  sorted(): LocalUserPool[] {
    return [...this.byId.values()].sort((a, b) => byKey(a.server.userPoolId, b.server.userPoolId));
  }

  pool(userPoolId: string): LocalUserPool {
    const pool = this.byId.get(userPoolId);
    if (!pool) throw notFound(`User pool ${userPoolId} does not exist.`);
    return pool;
  }

  /** A client that exists (not deleted) in the pool. */
  client(pool: LocalUserPool, clientId: string): ClientDetails {
    const client = pool.server.describeClient(clientId);
    if (!client || client.revokedAt !== undefined) throw notFound(`User pool client ${clientId} does not exist.`);
    return client;
  }

  /** The pool's clients that are not deleted, in id order. */
  liveClients(pool: LocalUserPool) {
    return pool.server
      .listClients()
      .filter((client) => client.revokedAt === undefined)
      .sort((a, b) => byKey(a.clientId, b.clientId));
  }
}
