import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { ApiKeyRegistry, ApiKeySummary } from '../../gateway/api-keys.js';
import { PolicyDocumentError, ResourcePolicy, type PolicyDocument } from '../../gateway/resource-policy.js';
import { byKey, decodePageToken, pageOf } from '../pagination.js';
import { AwsServiceError, LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../protocol.js';
import type { RestJsonService } from '../rest.js';
import type { ServiceErrors } from '../schema.js';
import type * as input from './schemas.js';
import { createApiGatewayService } from './service.js';
import * as shapes from './shapes.js';
import {
  RestApiStore,
  type LocalRestApiDeclaration,
  type LocalUsagePlanDeclaration,
  type StoredDeployment,
} from './store.js';

/**
 * The local API Gateway control plane: API Gateway's behaviour on validated input (schemas.ts). API keys live in the
 * runtime's ApiKeyRegistry, the instance the tire gateway reads: a key disabled or deleted here is refused on its
 * very next request. The resource policy follows API Gateway's rule that "if you update the resource policy, you'll
 * need to deploy the API": UpdateRestApi changes the API's policy (store.ts), and the stage enforces it once
 * CreateDeployment deploys it to the stage (as the console's "Deploy API" or `create-deployment` does).
 */

const badRequest = (message: string) => new AwsServiceError('BadRequestException', message, 400);
const notFound = (message: string) => new AwsServiceError('NotFoundException', message, 404);
const conflict = (message: string) => new AwsServiceError('ConflictException', message, 409);

/** API Gateway answers malformed input, of any kind, with 400 BadRequestException. */
export const apiGatewayErrors: ServiceErrors = {
  invalid: badRequest,
  serialization: (path, expected) => badRequest(`Invalid value at '${path}': expected ${expected}.`),
};

type Input<T extends z.ZodType> = z.output<T>;
type Page = { position?: string | undefined; limit?: number | undefined };

export class LocalApiGateway {
  private readonly store: RestApiStore;
  private readonly declarations: Map<string, LocalRestApiDeclaration>;
  private readonly deployed = new Map<string, ResourcePolicy | undefined>();

  constructor(
    stateDir: string,
    private readonly config: {
      restApis: readonly LocalRestApiDeclaration[];
      usagePlans: readonly LocalUsagePlanDeclaration[];
      apiKeys: ApiKeyRegistry;
    },
  ) {
    this.declarations = new Map(config.restApis.map((api) => [api.apiId, api]));
    this.store = new RestApiStore(stateDir, config.restApis, (apiId, policy) => this.normalize(apiId, policy), newId);
    for (const apiId of this.declarations.keys()) this.refreshDeployed(apiId);
  }

  /** The policy of the stage's current deployment, for the gateway (undefined: the API has no resource policy). */
  deployedPolicy(apiId: string): ResourcePolicy | undefined {
    return this.deployed.get(apiId);
  }

  /** The API's current policy document (deployed or not), or undefined. */
  policyDocument(apiId: string): PolicyDocument | undefined {
    const policy = this.store.api(apiId)?.policy;
    return policy === undefined ? undefined : (JSON.parse(policy) as PolicyDocument);
  }

  service(): RestJsonService {
    return createApiGatewayService(this);
  }

  // --- REST APIs, stages, deployments -------------------------------------------------------------------------

  getRestApis(request: Input<typeof input.PageInput>) {
    const apis = [...this.declarations.keys()].sort(byKey).map((apiId) => this.api(apiId));
    const page = paged(request, apis, (api) => api.declaration.apiId);
    return { item: page.items.map(shapes.restApiOf), ...positionOf(page) };
  }

  getRestApi({ restApiId }: Input<typeof input.RestApiInput>) {
    return shapes.restApiOf(this.api(restApiId));
  }

  updateRestApi({ restApiId, patchOperations }: Input<typeof input.UpdateRestApiInput>) {
    const { declaration } = this.api(restApiId);
    const change: { policy?: string | null; name?: string; description?: string } = {};
    for (const { op, path, value } of patchOperations) {
      if (path === '/policy' && (op === 'replace' || op === 'add')) {
        change.policy = (value ?? '').trim() === '' ? null : this.normalize(restApiId, value!);
      } else if (path === '/policy' && op === 'remove') {
        change.policy = null;
      } else if (op === 'replace' && path === '/name') {
        if (!value?.trim()) throw badRequest('The name of a REST API must not be empty.');
        change.name = value;
      } else if (op === 'replace' && path === '/description') {
        change.description = value ?? '';
      } else {
        throw badRequest(
          `Invalid patch path '${path}' specified for op '${op}'. Must be one of: [/policy, /name, /description]`,
        );
      }
    }
    const stored = this.store.change(restApiId, (api) => {
      if (change.policy === null) delete api.policy;
      else if (change.policy !== undefined) api.policy = change.policy;
      if (change.name !== undefined) api.name = change.name;
      if (change.description !== undefined) api.description = change.description;
      return api;
    });
    return shapes.restApiOf({ declaration, stored });
  }

  getStages({ restApiId }: Input<typeof input.GetStagesInput>) {
    return { item: [shapes.stageOf(this.api(restApiId))] };
  }

  getStage({ restApiId, stageName }: Input<typeof input.GetStageInput>) {
    const api = this.api(restApiId);
    if (stageName !== api.declaration.stage) throw notFound('Invalid stage identifier specified');
    return shapes.stageOf(api);
  }

  createDeployment({ restApiId, stageName, description }: Input<typeof input.CreateDeploymentInput>) {
    const { declaration } = this.api(restApiId);
    if (stageName !== undefined && stageName !== declaration.stage) {
      throw badRequest(
        `The local runtime serves one stage per API ('${declaration.stage}'); cannot deploy to stage '${stageName}'.`,
      );
    }
    const now = Date.now();
    const deployment: StoredDeployment = {
      id: newId(),
      createdDate: now,
      ...(description !== undefined ? { description } : {}),
    };
    this.store.change(restApiId, (api) => {
      if (api.policy !== undefined) deployment.policy = api.policy;
      api.deployments.push(deployment);
      if (stageName !== undefined) api.stage = { ...api.stage, deploymentId: deployment.id, lastUpdatedDate: now };
    });
    this.refreshDeployed(restApiId);
    return shapes.deploymentOf(deployment);
  }

  getDeployments({ restApiId, ...request }: Input<typeof input.GetDeploymentsInput>) {
    const { stored } = this.api(restApiId);
    const sorted = [...stored.deployments].sort((a, b) => a.createdDate - b.createdDate || byKey(a.id, b.id));
    const page = paged(
      request,
      sorted,
      (deployment) => `${String(deployment.createdDate).padStart(15, '0')}:${deployment.id}`,
    );
    return { item: page.items.map(shapes.deploymentOf), ...positionOf(page) };
  }

  // --- API keys -------------------------------------------------------------------------------------------------

  createApiKey(request: Input<typeof input.CreateApiKeyInput>) {
    const { name, value, description, customerId } = request;
    if (request.stageKeys !== undefined && request.stageKeys.length > 0) {
      throw badRequest(
        'stageKeys are not supported by the local runtime: associate the key with a usage plan (CreateUsagePlanKey).',
      );
    }
    if (value !== undefined && this.config.apiKeys.lookup(value)) throw conflict('API Key already exists');
    const created = this.config.apiKeys.create({
      name,
      // API Gateway's CreateApiKey default: "enabled: false".
      enabled: request.enabled ?? false,
      ...(value !== undefined ? { value } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(customerId !== undefined ? { customerId } : {}),
    });
    return this.apiKeyOf(this.key(created.id), true);
  }

  getApiKeys({ nameQuery, customerId, includeValues, ...request }: Input<typeof input.GetApiKeysInput>) {
    const keys = this.config.apiKeys
      .list()
      .filter((key) => nameQuery === undefined || key.name.startsWith(nameQuery))
      .filter((key) => customerId === undefined || key.customerId === customerId)
      .sort((a, b) => byKey(a.id, b.id));
    const page = paged(request, keys, (key) => key.id);
    return { item: page.items.map((key) => this.apiKeyOf(key, includeValues === true)), ...positionOf(page) };
  }

  getApiKey({ apiKey, includeValue }: Input<typeof input.GetApiKeyInput>) {
    return this.apiKeyOf(this.key(apiKey), includeValue === true);
  }

  updateApiKey({ apiKey, patchOperations }: Input<typeof input.UpdateApiKeyInput>) {
    const key = this.key(apiKey);
    const change: { name?: string; description?: string; customerId?: string; enabled?: boolean } = {};
    for (const { op, path, value = '' } of patchOperations) {
      if (op !== 'replace') throw badRequest(`Invalid patch operation specified. Must be 'replace' for ${path}`);
      if (path === '/enabled') {
        if (value !== 'true' && value !== 'false') throw badRequest(`Invalid boolean value '${value}' for /enabled`);
        change.enabled = value === 'true';
      } else if (path === '/name') {
        if (value.trim() === '') throw badRequest('API Key name must not be empty.');
        change.name = value;
      } else if (path === '/description' || path === '/customerId') {
        change[path === '/description' ? 'description' : 'customerId'] = value;
      } else {
        throw badRequest(
          `Invalid patch path '${path}' specified for op 'replace'. Must be one of: [/name, /description, /enabled, /customerId]`,
        );
      }
    }
    return this.apiKeyOf(this.config.apiKeys.update(key.id, change), false);
  }

  deleteApiKey({ apiKey }: Input<typeof input.ApiKeyInput>) {
    this.config.apiKeys.delete(this.key(apiKey).id);
  }

  // --- Usage plans ----------------------------------------------------------------------------------------------

  getUsagePlans({ keyId, ...request }: Input<typeof input.GetUsagePlansInput>) {
    const keyPlan = keyId === undefined ? undefined : this.config.apiKeys.get(keyId)?.usagePlanId;
    const plans = this.config.usagePlans
      .filter((plan) => keyId === undefined || plan.id === keyPlan)
      .slice()
      .sort((a, b) => byKey(a.id, b.id));
    const page = paged(request, plans, (plan) => plan.id);
    return { item: page.items.map(shapes.usagePlanOf), ...positionOf(page) };
  }

  getUsagePlan({ usagePlanId }: Input<typeof input.UsagePlanInput>) {
    return shapes.usagePlanOf(this.plan(usagePlanId));
  }

  createUsagePlanKey({ usagePlanId, keyId }: Input<typeof input.CreateUsagePlanKeyInput>) {
    this.plan(usagePlanId);
    const key = this.key(keyId);
    if (key.usagePlanId === usagePlanId) {
      throw conflict(`API Key ${keyId} is already associated with usage plan ${usagePlanId}`);
    }
    if (key.usagePlanId !== undefined) {
      throw conflict(
        `API Key ${keyId} cannot reference multiple Usage Plans with the same API Stage (it is in ${key.usagePlanId})`,
      );
    }
    this.config.apiKeys.setUsagePlan(keyId, usagePlanId);
    return shapes.usagePlanKeyOf(this.key(keyId));
  }

  getUsagePlanKeys({ usagePlanId, nameQuery, ...request }: Input<typeof input.GetUsagePlanKeysInput>) {
    this.plan(usagePlanId);
    const keys = this.config.apiKeys
      .list()
      .filter((key) => key.usagePlanId === usagePlanId)
      .filter((key) => nameQuery === undefined || key.name.startsWith(nameQuery))
      .sort((a, b) => byKey(a.id, b.id));
    const page = paged(request, keys, (key) => key.id);
    return { item: page.items.map(shapes.usagePlanKeyOf), ...positionOf(page) };
  }

  deleteUsagePlanKey({ usagePlanId, keyId }: Input<typeof input.UsagePlanKeyInput>) {
    this.config.apiKeys.setUsagePlan(this.planKey(usagePlanId, keyId).id, undefined);
  }

  // --- Lookups and the deployed policy ----------------------------------------------------------------------------

  private api(apiId: string): shapes.RestApiState {
    const declaration = this.declarations.get(apiId);
    const stored = this.store.api(apiId);
    if (!declaration || !stored) throw notFound(`Invalid API identifier specified ${LOCAL_ACCOUNT_ID}:${apiId}`);
    return { declaration, stored };
  }

  private key(id: string): ApiKeySummary {
    const key = this.config.apiKeys.get(id);
    if (!key) throw notFound('Invalid API Key identifier specified');
    return key;
  }

  private apiKeyOf(key: ApiKeySummary, includeValue: boolean) {
    return shapes.apiKeyOf(key, includeValue ? this.config.apiKeys.revealValue(key.id) : undefined);
  }

  private plan(id: string): LocalUsagePlanDeclaration {
    const plan = this.config.usagePlans.find((candidate) => candidate.id === id);
    if (!plan) throw notFound('Invalid Usage Plan ID specified');
    return plan;
  }

  private planKey(planId: string, keyId: string): ApiKeySummary {
    this.plan(planId);
    const key = this.config.apiKeys.get(keyId);
    if (!key || key.usagePlanId !== planId) throw notFound('Invalid Usage Plan Key identifier specified');
    return key;
  }

  private refreshDeployed(apiId: string): void {
    const stored = this.store.api(apiId);
    const deployment = stored?.deployments.find((candidate) => candidate.id === stored.stage.deploymentId);
    this.deployed.set(apiId, deployment?.policy === undefined ? undefined : this.compile(apiId, deployment.policy));
  }

  private compile(apiId: string, policy: string): ResourcePolicy {
    return ResourcePolicy.parse(policy, { region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID, apiId });
  }

  /** A policy as API Gateway keeps it (shorthand resources expanded), or BadRequestException. */
  private normalize(apiId: string, policy: string | PolicyDocument): string {
    try {
      return JSON.stringify(this.compile(apiId, typeof policy === 'string' ? policy : JSON.stringify(policy)).document);
    } catch (error) {
      if (error instanceof PolicyDocumentError) throw badRequest(`Invalid policy document: ${error.message}`);
      throw error;
    }
  }
}

/** limit (default 25) and position, API Gateway's paging query parameters. */
function paged<T>(request: Page, items: T[], keyOf: (item: T) => string) {
  const position = decodePageToken(request.position, () => badRequest('Invalid position.'));
  return pageOf(items, keyOf, position, request.limit ?? 25);
}

function positionOf(page: { nextToken?: string }): { position?: string } {
  return page.nextToken ? { position: page.nextToken } : {};
}

/** A 10-character lowercase id, like API Gateway's deployment ids. */
function newId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(10), (byte) => alphabet[byte % alphabet.length]).join('');
}
