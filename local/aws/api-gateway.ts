import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ApiKeyRegistry, ApiKeySummary } from '../gateway/api-keys.js';
import { rebaseList, sameMembers } from '../gateway/allowlist.js';
import {
  mapSourceIpLists,
  PolicyDocumentError,
  ResourcePolicy,
  type PolicyDocument,
} from '../gateway/resource-policy.js';
import { JsonStore } from '../state/json-store.js';
import { decodePageToken, epochSeconds, pageOf } from './input.js';
import {
  AwsServiceError,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  type AwsRestJsonService,
  type AwsRestRequest,
  type AwsRestResponse,
} from './protocol.js';

/**
 * The API Gateway (REST APIs, v1) control plane over the local gateways, spoken in the REST-JSON protocol the real
 * APIGatewayClient uses (no X-Amz-Target: the operation is the method and path), so the operator CLI manages API
 * keys, usage plan keys and the resource policy exactly as on AWS:
 *
 *   GET /restapis, GET /restapis/{id}, PATCH /restapis/{id} (replace|remove /policy, replace /name|/description),
 *   GET /restapis/{id}/stages, GET /restapis/{id}/stages/{stage},
 *   POST /restapis/{id}/deployments, GET /restapis/{id}/deployments,
 *   POST /apikeys, GET /apikeys, GET /apikeys/{id}, PATCH /apikeys/{id}, DELETE /apikeys/{id},
 *   GET /usageplans, GET /usageplans/{id}, POST /usageplans/{id}/keys, GET /usageplans/{id}/keys,
 *   GET /usageplans/{id}/keys/{keyId}, DELETE /usageplans/{id}/keys/{keyId}.
 *
 * API keys live in the runtime's ApiKeyRegistry, the instance the tire gateway reads: a key disabled or deleted
 * here is refused on its very next request. The resource policy follows API Gateway's rule that "if you update the
 * resource policy, you'll need to deploy the API": UpdateRestApi changes the API's policy, and the stage enforces it
 * once CreateDeployment deploys it to the stage (as the console's "Deploy API" or `create-deployment` does).
 * Policies and deployments are persisted under `{stateDir}/apigateway/`, so a restart keeps them; the policy the
 * runtime derives from the car maker's egress at each start is the base (see rebaseList).
 *
 * GetRestApi returns `policy` JSON-escaped, as API Gateway does (quotes as \" and slashes as \/ inside the string):
 * read it with JSON.parse(JSON.parse(`"${policy}"`)).
 *
 * Deliberate differences: one stage per API (the runtime's); no resources/methods/authorizers/models operations;
 * one usage plan and at most one plan per key; tags are not kept; a created key needs a name.
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

interface StoredDeployment {
  id: string;
  description?: string;
  createdDate: number;
  /** The API's policy (normalized JSON) when deployed; absent for an API without a policy. */
  policy?: string;
}

interface StoredRestApi {
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

const badRequest = (message: string) => new AwsServiceError('BadRequestException', message, 400);
const notFound = (message: string) => new AwsServiceError('NotFoundException', message, 404);
const conflict = (message: string) => new AwsServiceError('ConflictException', message, 409);
const MIN_KEY_VALUE_LENGTH = 20;
const MAX_KEY_VALUE_LENGTH = 128;

type Handler = (request: AwsRestRequest) => Promise<AwsRestResponse> | AwsRestResponse;

export class LocalApiGateway {
  private readonly store: JsonStore<RestApiDocument>;
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
    this.store = new JsonStore<RestApiDocument>(join(stateDir, 'apigateway', 'rest-apis.json'), () => ({ apis: {} }));
    this.store.update((document) => {
      for (const declaration of config.restApis) {
        const baseCidrs = [...(declaration.policy?.baseCidrs ?? [])];
        const stored = document.apis[declaration.apiId];
        if (!stored) {
          const now = Date.now();
          const policy = declaration.policy
            ? this.normalize(declaration.apiId, declaration.policy.document)
            : undefined;
          const deployment: StoredDeployment = {
            id: newId(),
            createdDate: now,
            ...(policy !== undefined ? { policy } : {}),
          };
          document.apis[declaration.apiId] = {
            createdDate: now,
            baseCidrs,
            name: declaration.name,
            description: declaration.description,
            ...(policy !== undefined ? { policy } : {}),
            deployments: [deployment],
            stage: { deploymentId: deployment.id, createdDate: now, lastUpdatedDate: now },
          };
        } else if (!sameMembers(stored.baseCidrs, baseCidrs)) {
          // The configuration changed (another car-maker egress): swap the old base for the new in every policy.
          const rebase = (policy: string | undefined) =>
            policy === undefined
              ? undefined
              : JSON.stringify(
                  mapSourceIpLists(JSON.parse(policy) as PolicyDocument, (list) =>
                    rebaseList(list, stored.baseCidrs, baseCidrs),
                  ),
                );
          const policy = rebase(stored.policy);
          if (policy !== undefined) stored.policy = policy;
          for (const deployment of stored.deployments) {
            const deployedPolicy = rebase(deployment.policy);
            if (deployedPolicy !== undefined) deployment.policy = deployedPolicy;
          }
          stored.baseCidrs = baseCidrs;
        }
      }
    });
    for (const apiId of this.declarations.keys()) this.refreshDeployed(apiId);
  }

  /** The policy of the stage's current deployment, for the gateway (undefined: the API has no resource policy). */
  deployedPolicy(apiId: string): ResourcePolicy | undefined {
    return this.deployed.get(apiId);
  }

  /** The API's current policy document (deployed or not), or undefined. */
  policyDocument(apiId: string): PolicyDocument | undefined {
    const policy = this.store.get().apis[apiId]?.policy;
    return policy === undefined ? undefined : (JSON.parse(policy) as PolicyDocument);
  }

  service(): AwsRestJsonService {
    return {
      name: 'apigateway',
      route: (method, segments) => this.route(method, segments),
    };
  }

  private route(method: string, segments: string[]): Handler | undefined {
    const [collection, id, sub, subId, ...rest] = segments;
    if (rest.length > 0) return undefined;
    if (collection === 'restapis') {
      if (id === undefined) return method === 'GET' ? (request) => this.getRestApis(request) : undefined;
      if (sub === undefined) {
        if (method === 'GET') return () => ({ statusCode: 200, body: this.restApiOf(this.api(id)) });
        if (method === 'PATCH') return (request) => this.updateRestApi(id, request);
        return undefined;
      }
      if (sub === 'stages' && method === 'GET') {
        return subId === undefined
          ? () => ({ statusCode: 200, body: { item: [this.stageOf(this.api(id))] } })
          : () => ({ statusCode: 200, body: this.stageOf(this.api(id), subId) });
      }
      if (sub === 'deployments' && subId === undefined) {
        if (method === 'POST') return (request) => this.createDeployment(id, request);
        if (method === 'GET') return (request) => this.getDeployments(id, request);
      }
      return undefined;
    }
    if (collection === 'apikeys' && sub === undefined) {
      if (id === undefined) {
        if (method === 'POST') return (request) => this.createApiKey(request);
        if (method === 'GET') return (request) => this.getApiKeys(request);
        return undefined;
      }
      if (method === 'GET')
        return (request) => ({
          statusCode: 200,
          body: this.apiKeyOf(this.key(id), request.query.get('includeValue') === 'true'),
        });
      if (method === 'PATCH') return (request) => this.updateApiKey(id, request);
      if (method === 'DELETE') {
        return () => {
          this.config.apiKeys.delete(this.key(id).id);
          return { statusCode: 202 };
        };
      }
      return undefined;
    }
    if (collection === 'usageplans') {
      if (id === undefined) return method === 'GET' ? (request) => this.getUsagePlans(request) : undefined;
      if (sub === undefined)
        return method === 'GET' ? () => ({ statusCode: 200, body: usagePlanOf(this.plan(id)) }) : undefined;
      if (sub !== 'keys') return undefined;
      if (subId === undefined) {
        if (method === 'POST') return (request) => this.createUsagePlanKey(id, request);
        if (method === 'GET') return (request) => this.getUsagePlanKeys(id, request);
        return undefined;
      }
      if (method === 'GET') return () => ({ statusCode: 200, body: usagePlanKeyOf(this.planKey(id, subId)) });
      if (method === 'DELETE') {
        return () => {
          this.config.apiKeys.setUsagePlan(this.planKey(id, subId).id, undefined);
          return { statusCode: 202 };
        };
      }
    }
    return undefined;
  }

  // --- REST APIs, stages, deployments -------------------------------------------------------------------------

  private api(apiId: string): { declaration: LocalRestApiDeclaration; stored: StoredRestApi } {
    const declaration = this.declarations.get(apiId);
    const stored = this.store.get().apis[apiId];
    if (!declaration || !stored) throw notFound(`Invalid API identifier specified ${LOCAL_ACCOUNT_ID}:${apiId}`);
    return { declaration, stored };
  }

  private getRestApis(request: AwsRestRequest): AwsRestResponse {
    const apis = [...this.declarations.keys()].sort().map((apiId) => this.api(apiId));
    const page = paged(request, apis, (api) => api.declaration.apiId);
    return { statusCode: 200, body: { item: page.items.map((api) => this.restApiOf(api)), ...positionOf(page) } };
  }

  private restApiOf({ declaration, stored }: { declaration: LocalRestApiDeclaration; stored: StoredRestApi }) {
    return {
      id: declaration.apiId,
      name: stored.name,
      description: stored.description,
      createdDate: epochSeconds(stored.createdDate),
      apiKeySource: 'HEADER',
      endpointConfiguration: { types: ['REGIONAL'], ipAddressType: 'ipv4' },
      ...(stored.policy !== undefined ? { policy: escapePolicy(stored.policy) } : {}),
      disableExecuteApiEndpoint: false,
      tags: {},
    };
  }

  private updateRestApi(apiId: string, request: AwsRestRequest): AwsRestResponse {
    const { declaration } = this.api(apiId);
    const change: { policy?: string | null; name?: string; description?: string } = {};
    for (const operation of patchOperations(request.body)) {
      if (operation.path === '/policy' && (operation.op === 'replace' || operation.op === 'add')) {
        const value = operation.value ?? '';
        change.policy = value.trim() === '' ? null : this.normalize(apiId, value);
      } else if (operation.path === '/policy' && operation.op === 'remove') {
        change.policy = null;
      } else if (operation.op === 'replace' && operation.path === '/name') {
        if (!operation.value?.trim()) throw badRequest('The name of a REST API must not be empty.');
        change.name = operation.value;
      } else if (operation.op === 'replace' && operation.path === '/description') {
        change.description = operation.value ?? '';
      } else {
        throw badRequest(
          `Invalid patch path '${operation.path}' specified for op '${operation.op}'. Must be one of: [/policy, /name, /description]`,
        );
      }
    }
    this.store.update((document) => {
      const stored = document.apis[apiId]!;
      if (change.policy === null) delete stored.policy;
      else if (change.policy !== undefined) stored.policy = change.policy;
      if (change.name !== undefined) stored.name = change.name;
      if (change.description !== undefined) stored.description = change.description;
    });
    return { statusCode: 200, body: this.restApiOf({ declaration, stored: this.store.get().apis[apiId]! }) };
  }

  private stageOf(
    { declaration, stored }: { declaration: LocalRestApiDeclaration; stored: StoredRestApi },
    stageName = declaration.stage,
  ) {
    if (stageName !== declaration.stage) throw notFound('Invalid stage identifier specified');
    return {
      deploymentId: stored.stage.deploymentId,
      stageName: declaration.stage,
      cacheClusterEnabled: false,
      cacheClusterStatus: 'NOT_AVAILABLE',
      methodSettings: {
        '*/*': {
          metricsEnabled: true,
          loggingLevel: 'INFO',
          dataTraceEnabled: false,
          throttlingBurstLimit: declaration.stageThrottle.burstLimit,
          throttlingRateLimit: declaration.stageThrottle.rateLimit,
          cachingEnabled: false,
          cacheTtlInSeconds: 300,
          cacheDataEncrypted: false,
          requireAuthorizationForCacheControl: true,
          unauthorizedCacheControlHeaderStrategy: 'SUCCEED_WITH_RESPONSE_HEADER',
        },
      },
      tracingEnabled: true,
      ...(declaration.webAclArn !== undefined ? { webAclArn: declaration.webAclArn } : {}),
      createdDate: epochSeconds(stored.stage.createdDate),
      lastUpdatedDate: epochSeconds(stored.stage.lastUpdatedDate),
    };
  }

  private createDeployment(apiId: string, request: AwsRestRequest): AwsRestResponse {
    const { declaration } = this.api(apiId);
    const body = objectBody(request.body);
    const stageName = optionalText(body, 'stageName');
    const description = optionalText(body, 'description');
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
    this.store.update((document) => {
      const stored = document.apis[apiId]!;
      if (stored.policy !== undefined) deployment.policy = stored.policy;
      stored.deployments.push(deployment);
      if (stageName !== undefined)
        stored.stage = { ...stored.stage, deploymentId: deployment.id, lastUpdatedDate: now };
    });
    this.refreshDeployed(apiId);
    return { statusCode: 201, body: deploymentOf(deployment) };
  }

  private getDeployments(apiId: string, request: AwsRestRequest): AwsRestResponse {
    const { stored } = this.api(apiId);
    const sorted = [...stored.deployments].sort((a, b) => a.createdDate - b.createdDate || byKey(a.id, b.id));
    const page = paged(
      request,
      sorted,
      (deployment) => `${String(deployment.createdDate).padStart(15, '0')}:${deployment.id}`,
    );
    return { statusCode: 200, body: { item: page.items.map(deploymentOf), ...positionOf(page) } };
  }

  private refreshDeployed(apiId: string): void {
    const stored = this.store.get().apis[apiId];
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

  // --- API keys -------------------------------------------------------------------------------------------------

  private key(id: string): ApiKeySummary {
    const key = this.config.apiKeys.get(id);
    if (!key) throw notFound('Invalid API Key identifier specified');
    return key;
  }

  private apiKeyOf(key: ApiKeySummary, includeValue: boolean) {
    return {
      id: key.id,
      ...(includeValue ? { value: this.config.apiKeys.revealValue(key.id) } : {}),
      name: key.name,
      ...(key.customerId !== undefined ? { customerId: key.customerId } : {}),
      ...(key.description !== undefined ? { description: key.description } : {}),
      enabled: key.enabled,
      createdDate: epochSeconds(Date.parse(key.createdAt)),
      lastUpdatedDate: epochSeconds(Date.parse(key.updatedAt ?? key.createdAt)),
      stageKeys: [],
      tags: {},
    };
  }

  private createApiKey(request: AwsRestRequest): AwsRestResponse {
    const body = objectBody(request.body);
    const name = optionalText(body, 'name');
    if (name === undefined || name.trim() === '') throw badRequest('API Key name must be specified.');
    const description = optionalText(body, 'description');
    const customerId = optionalText(body, 'customerId');
    const value = optionalText(body, 'value');
    const enabled = optionalFlag(body, 'enabled');
    optionalFlag(body, 'generateDistinctId');
    if (Array.isArray(body.stageKeys) && body.stageKeys.length > 0) {
      throw badRequest(
        'stageKeys are not supported by the local runtime: associate the key with a usage plan (CreateUsagePlanKey).',
      );
    }
    if (value !== undefined) {
      if (value.length < MIN_KEY_VALUE_LENGTH || value.length > MAX_KEY_VALUE_LENGTH) {
        throw badRequest(
          `API Key value should be at least ${MIN_KEY_VALUE_LENGTH} and at most ${MAX_KEY_VALUE_LENGTH} characters.`,
        );
      }
      if (this.config.apiKeys.lookup(value)) throw conflict('API Key already exists');
    }
    const created = this.config.apiKeys.create({
      name,
      // API Gateway's CreateApiKey default: "enabled: false".
      enabled: enabled ?? false,
      ...(value !== undefined ? { value } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(customerId !== undefined ? { customerId } : {}),
    });
    return { statusCode: 201, body: this.apiKeyOf(this.key(created.id), true) };
  }

  private getApiKeys(request: AwsRestRequest): AwsRestResponse {
    const nameQuery = request.query.get('name') ?? undefined;
    const customerId = request.query.get('customerId') ?? undefined;
    const includeValues = request.query.get('includeValues') === 'true';
    const keys = this.config.apiKeys
      .list()
      .filter((key) => nameQuery === undefined || key.name.startsWith(nameQuery))
      .filter((key) => customerId === undefined || key.customerId === customerId)
      .sort((a, b) => byKey(a.id, b.id));
    const page = paged(request, keys, (key) => key.id);
    return {
      statusCode: 200,
      body: { item: page.items.map((key) => this.apiKeyOf(key, includeValues)), ...positionOf(page) },
    };
  }

  private updateApiKey(id: string, request: AwsRestRequest): AwsRestResponse {
    const key = this.key(id);
    const change: { name?: string; description?: string; customerId?: string; enabled?: boolean } = {};
    for (const operation of patchOperations(request.body)) {
      if (operation.op !== 'replace')
        throw badRequest(`Invalid patch operation specified. Must be 'replace' for ${operation.path}`);
      const value = operation.value ?? '';
      switch (operation.path) {
        case '/enabled':
          if (value !== 'true' && value !== 'false') throw badRequest(`Invalid boolean value '${value}' for /enabled`);
          change.enabled = value === 'true';
          break;
        case '/name':
          if (value.trim() === '') throw badRequest('API Key name must not be empty.');
          change.name = value;
          break;
        case '/description':
          change.description = value;
          break;
        case '/customerId':
          change.customerId = value;
          break;
        default:
          throw badRequest(
            `Invalid patch path '${operation.path}' specified for op 'replace'. Must be one of: [/name, /description, /enabled, /customerId]`,
          );
      }
    }
    const updated = this.config.apiKeys.update(key.id, change);
    return { statusCode: 200, body: this.apiKeyOf(updated, false) };
  }

  // --- Usage plans ----------------------------------------------------------------------------------------------

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

  private getUsagePlans(request: AwsRestRequest): AwsRestResponse {
    const keyId = request.query.get('keyId') ?? undefined;
    const keyPlan = keyId === undefined ? undefined : this.config.apiKeys.get(keyId)?.usagePlanId;
    const plans = this.config.usagePlans
      .filter((plan) => keyId === undefined || plan.id === keyPlan)
      .slice()
      .sort((a, b) => byKey(a.id, b.id));
    const page = paged(request, plans, (plan) => plan.id);
    return { statusCode: 200, body: { item: page.items.map(usagePlanOf), ...positionOf(page) } };
  }

  private createUsagePlanKey(planId: string, request: AwsRestRequest): AwsRestResponse {
    this.plan(planId);
    const body = objectBody(request.body);
    const keyId = optionalText(body, 'keyId');
    const keyType = optionalText(body, 'keyType');
    if (keyId === undefined) throw badRequest('keyId must be specified.');
    if (keyType !== 'API_KEY')
      throw badRequest(`Invalid keyType '${keyType ?? ''}': the only supported key type is API_KEY.`);
    const key = this.key(keyId);
    if (key.usagePlanId === planId) throw conflict(`API Key ${keyId} is already associated with usage plan ${planId}`);
    if (key.usagePlanId !== undefined) {
      throw conflict(
        `API Key ${keyId} cannot reference multiple Usage Plans with the same API Stage (it is in ${key.usagePlanId})`,
      );
    }
    this.config.apiKeys.setUsagePlan(keyId, planId);
    return { statusCode: 201, body: usagePlanKeyOf(this.key(keyId)) };
  }

  private getUsagePlanKeys(planId: string, request: AwsRestRequest): AwsRestResponse {
    this.plan(planId);
    const nameQuery = request.query.get('name') ?? undefined;
    const keys = this.config.apiKeys
      .list()
      .filter((key) => key.usagePlanId === planId)
      .filter((key) => nameQuery === undefined || key.name.startsWith(nameQuery))
      .sort((a, b) => byKey(a.id, b.id));
    const page = paged(request, keys, (key) => key.id);
    return { statusCode: 200, body: { item: page.items.map(usagePlanKeyOf), ...positionOf(page) } };
  }
}

/**
 * API Gateway returns the policy string JSON-escaped a second time: the value carries \" for quotes and \/ for
 * slashes (a known quirk every client of GetRestApi unescapes once more).
 */
export function escapePolicy(policy: string): string {
  return policy.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\//g, '\\/');
}

/** The inverse of escapePolicy: the policy document text as it was stored. */
export function unescapePolicy(escaped: string): string {
  return JSON.parse(`"${escaped}"`) as string;
}

function usagePlanOf(plan: LocalUsagePlanDeclaration) {
  return {
    id: plan.id,
    name: plan.name,
    description: plan.description,
    apiStages: plan.apiStages.map((stage) => ({ apiId: stage.apiId, stage: stage.stage })),
    ...(plan.throttle
      ? { throttle: { burstLimit: plan.throttle.burstLimit, rateLimit: plan.throttle.rateLimit } }
      : {}),
    ...(plan.quota ? { quota: { limit: plan.quota.limit, offset: 0, period: plan.quota.period } } : {}),
    tags: {},
  };
}

function usagePlanKeyOf(key: ApiKeySummary) {
  return { id: key.id, type: 'API_KEY', name: key.name };
}

function deploymentOf(deployment: StoredDeployment) {
  return {
    id: deployment.id,
    ...(deployment.description !== undefined ? { description: deployment.description } : {}),
    createdDate: epochSeconds(deployment.createdDate),
  };
}

interface PatchOperation {
  op: string;
  path: string;
  value?: string;
}

function patchOperations(body: unknown): PatchOperation[] {
  const list = objectBody(body).patchOperations;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw badRequest('patchOperations must be a list.');
  return list.map((item) => {
    if (typeof item !== 'object' || item === null) throw badRequest('Each patch operation must be an object.');
    const { op, path, value } = item as Record<string, unknown>;
    if (typeof op !== 'string' || !['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op)) {
      throw badRequest(`Invalid patch operation '${String(op)}'.`);
    }
    if (typeof path !== 'string' || !path.startsWith('/'))
      throw badRequest('Each patch operation needs a path starting with /.');
    if (value !== undefined && value !== null && typeof value !== 'string')
      throw badRequest(`The value of ${path} must be a string.`);
    return { op, path, ...(typeof value === 'string' ? { value } : {}) };
  });
}

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

function optionalText(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`${field} must be a string.`);
  return value;
}

function optionalFlag(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badRequest(`${field} must be a boolean.`);
  return value;
}

/** limit (1-500, default 25) and position, API Gateway's paging query parameters. */
function paged<T>(request: AwsRestRequest, items: T[], keyOf: (item: T) => string) {
  const limitText = request.query.get('limit');
  const limit = limitText === null ? 25 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw badRequest('limit must be an integer from 1 to 500.');
  const position = decodePageToken(request.query.get('position') ?? undefined, () => badRequest('Invalid position.'));
  return pageOf(items, keyOf, position, limit);
}

function positionOf(page: { nextToken?: string }): { position?: string } {
  return page.nextToken ? { position: page.nextToken } : {};
}

/** A 10-character lowercase id, like API Gateway's deployment ids. */
function newId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(10), (byte) => alphabet[byte % alphabet.length]).join('');
}

/** Code-unit order: the order pageOf's page tokens (a `>` comparison of keys) assume. */
function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
