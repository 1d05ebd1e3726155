import { join } from 'node:path';
import { rebaseList, sameMembers } from '../../gateway/allowlist.js';
import { mapSourceIpLists, type PolicyDocument } from '../../gateway/resource-policy.js';
import { JsonStore } from '../../state/json-store.js';

/**
 * API Gateway's state: each REST API's name, description, current policy, deployments and stage under
 * `{stateDir}/apigateway/rest-apis.json`, so a restart keeps them. The policy the runtime derives from the car
 * maker's egress at each start is the base: when it changes, the old base is swapped for the new one in every
 * stored policy (see rebaseList). API keys and their usage plans live in the runtime's ApiKeyRegistry.
 */

export interface LocalRestApiDeclaration {
  apiId: string;
  /** The name the stack gives it, e.g. local-tire-orders. */
  name: string;
  description: string;
  stage: string;
  stageThrottle: { rateLimit: number; burstLimit: number };
  webAclArn?: string;
  /** The resource policy the stack attaches, and the CIDRs in it derived from configuration at each start. */
  policy?: { document: PolicyDocument; baseCidrs: readonly string[] };
}

export interface LocalUsagePlanDeclaration {
  id: string;
  name: string;
  description: string;
  apiStages: { apiId: string; stage: string }[];
  throttle?: { rateLimit: number; burstLimit: number };
  quota?: { limit: number; period: 'DAY' | 'WEEK' | 'MONTH' };
}

export interface StoredDeployment {
  id: string;
  description?: string;
  createdDate: number;
  /** The API's policy (normalized JSON) when deployed; absent for an API without a policy. */
  policy?: string;
}

export interface StoredRestApi {
  createdDate: number;
  /** The CIDRs of the configuration-derived base policy at the last start (for re-basing). */
  baseCidrs: string[];
  name: string;
  description: string;
  /** The API's current (possibly not yet deployed) policy, normalized JSON. */
  policy?: string;
  deployments: StoredDeployment[];
  stage: { deploymentId: string; createdDate: number; lastUpdatedDate: number };
}

interface RestApiDocument {
  apis: Record<string, StoredRestApi>;
}

export class RestApiStore {
  private readonly store: JsonStore<RestApiDocument>;

  /**
   * Opens the stored APIs: a declared API seen for the first time is stored with its declared policy
   * (`normalize`d as API Gateway keeps it) deployed to its stage; a known one is re-based on its current base.
   */
  constructor(
    stateDir: string,
    declarations: readonly LocalRestApiDeclaration[],
    normalize: (apiId: string, policy: PolicyDocument) => string,
    newId: () => string,
  ) {
    this.store = new JsonStore<RestApiDocument>(join(stateDir, 'apigateway', 'rest-apis.json'), () => ({ apis: {} }));
    this.store.update((document) => {
      for (const declaration of declarations) {
        const baseCidrs = [...(declaration.policy?.baseCidrs ?? [])];
        const stored = document.apis[declaration.apiId];
        if (!stored) {
          const policy = declaration.policy ? normalize(declaration.apiId, declaration.policy.document) : undefined;
          document.apis[declaration.apiId] = firstStored(declaration, baseCidrs, policy, newId());
        } else if (!sameMembers(stored.baseCidrs, baseCidrs)) {
          rebase(stored, baseCidrs);
        }
      }
    });
  }

  api(apiId: string): StoredRestApi | undefined {
    return this.store.get().apis[apiId];
  }

  /** Changes a stored API in place and persists it. */
  change<T>(apiId: string, change: (api: StoredRestApi) => T): T {
    return this.store.update((document) => change(document.apis[apiId] as StoredRestApi));
  }
}

function firstStored(
  declaration: LocalRestApiDeclaration,
  baseCidrs: string[],
  policy: string | undefined,
  deploymentId: string,
): StoredRestApi {
  const now = Date.now();
  const deployment: StoredDeployment = {
    id: deploymentId,
    createdDate: now,
    ...(policy !== undefined ? { policy } : {}),
  };
  return {
    createdDate: now,
    baseCidrs,
    name: declaration.name,
    description: declaration.description,
    ...(policy !== undefined ? { policy } : {}),
    deployments: [deployment],
    stage: { deploymentId: deployment.id, createdDate: now, lastUpdatedDate: now },
  };
}

/** The configuration changed (another car-maker egress): swap the old base for the new in every policy. */
function rebase(stored: StoredRestApi, baseCidrs: string[]): void {
  const rebased = (policy: string | undefined) =>
    policy === undefined
      ? undefined
      : JSON.stringify(
          mapSourceIpLists(JSON.parse(policy) as PolicyDocument, (list) =>
            rebaseList(list, stored.baseCidrs, baseCidrs),
          ),
        );
  const policy = rebased(stored.policy);
  if (policy !== undefined) stored.policy = policy;
  for (const deployment of stored.deployments) {
    const deployedPolicy = rebased(deployment.policy);
    if (deployedPolicy !== undefined) deployment.policy = deployedPolicy;
  }
  stored.baseCidrs = baseCidrs;
}
