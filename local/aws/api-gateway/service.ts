import { restJsonService, type RestJsonService, type RestRoute } from '../rest.js';
import { operation } from '../schema.js';
import { apiGatewayErrors as fail, type LocalApiGateway } from './provider.js';
import * as input from './schemas.js';

/**
 * The API Gateway (REST APIs, v1) control plane over the local gateways, spoken in the REST-JSON protocol the real
 * APIGatewayClient uses (no X-Amz-Target: the operation is the method and path, see rest.ts), so the operator CLI
 * manages API keys, usage plan keys and the resource policy exactly as on AWS. Every input is checked against its
 * schema (schemas.ts) first; anything malformed is a 400 BadRequestException, as API Gateway answers it.
 *
 * GetRestApi returns `policy` JSON-escaped, as API Gateway does (quotes as \" and slashes as \/ inside the string):
 * read it with JSON.parse(JSON.parse(`"${policy}"`)).
 *
 * Deliberate differences: one stage per API (the runtime's); no resources/methods/authorizers/models operations;
 * one usage plan and at most one plan per key; tags are not kept; a created key needs a name; UpdateRestApi patches
 * /policy, /name and /description only, UpdateApiKey replaces /name, /description, /enabled and /customerId only.
 */
export function createApiGatewayService(gateway: LocalApiGateway): RestJsonService {
  const page = { position: 'position', limit: 'limit' };
  const routes: RestRoute[] = [
    {
      name: 'GetRestApis',
      method: 'GET',
      path: '/restapis',
      query: page,
      status: 200,
      operation: operation(input.PageInput, fail, (request) => gateway.getRestApis(request)),
    },
    {
      name: 'GetRestApi',
      method: 'GET',
      path: '/restapis/{restApiId}',
      status: 200,
      operation: operation(input.RestApiInput, fail, (request) => gateway.getRestApi(request)),
    },
    {
      name: 'UpdateRestApi',
      method: 'PATCH',
      path: '/restapis/{restApiId}',
      body: true,
      status: 200,
      operation: operation(input.UpdateRestApiInput, fail, (request) => gateway.updateRestApi(request)),
    },
    {
      name: 'GetStages',
      method: 'GET',
      path: '/restapis/{restApiId}/stages',
      query: { deploymentId: 'deploymentId' },
      status: 200,
      operation: operation(input.GetStagesInput, fail, (request) => gateway.getStages(request)),
    },
    {
      name: 'GetStage',
      method: 'GET',
      path: '/restapis/{restApiId}/stages/{stageName}',
      status: 200,
      operation: operation(input.GetStageInput, fail, (request) => gateway.getStage(request)),
    },
    {
      name: 'CreateDeployment',
      method: 'POST',
      path: '/restapis/{restApiId}/deployments',
      body: true,
      status: 201,
      operation: operation(input.CreateDeploymentInput, fail, (request) => gateway.createDeployment(request)),
    },
    {
      name: 'GetDeployments',
      method: 'GET',
      path: '/restapis/{restApiId}/deployments',
      query: page,
      status: 200,
      operation: operation(input.GetDeploymentsInput, fail, (request) => gateway.getDeployments(request)),
    },
    ...apiKeyRoutes(gateway, page),
    ...usagePlanRoutes(gateway, page),
  ];
  return restJsonService('apigateway', routes);
}

function apiKeyRoutes(gateway: LocalApiGateway, page: Record<string, string>): RestRoute[] {
  return [
    {
      name: 'CreateApiKey',
      method: 'POST',
      path: '/apikeys',
      body: true,
      status: 201,
      operation: operation(input.CreateApiKeyInput, fail, (request) => gateway.createApiKey(request)),
    },
    {
      name: 'GetApiKeys',
      method: 'GET',
      path: '/apikeys',
      query: { ...page, nameQuery: 'name', customerId: 'customerId', includeValues: 'includeValues' },
      status: 200,
      operation: operation(input.GetApiKeysInput, fail, (request) => gateway.getApiKeys(request)),
    },
    {
      name: 'GetApiKey',
      method: 'GET',
      path: '/apikeys/{apiKey}',
      query: { includeValue: 'includeValue' },
      status: 200,
      operation: operation(input.GetApiKeyInput, fail, (request) => gateway.getApiKey(request)),
    },
    {
      name: 'UpdateApiKey',
      method: 'PATCH',
      path: '/apikeys/{apiKey}',
      body: true,
      status: 200,
      operation: operation(input.UpdateApiKeyInput, fail, (request) => gateway.updateApiKey(request)),
    },
    {
      name: 'DeleteApiKey',
      method: 'DELETE',
      path: '/apikeys/{apiKey}',
      status: 202,
      operation: operation(input.ApiKeyInput, fail, (request) => gateway.deleteApiKey(request)),
    },
  ];
}

function usagePlanRoutes(gateway: LocalApiGateway, page: Record<string, string>): RestRoute[] {
  return [
    {
      name: 'GetUsagePlans',
      method: 'GET',
      path: '/usageplans',
      query: { ...page, keyId: 'keyId' },
      status: 200,
      operation: operation(input.GetUsagePlansInput, fail, (request) => gateway.getUsagePlans(request)),
    },
    {
      name: 'GetUsagePlan',
      method: 'GET',
      path: '/usageplans/{usagePlanId}',
      status: 200,
      operation: operation(input.UsagePlanInput, fail, (request) => gateway.getUsagePlan(request)),
    },
    {
      name: 'CreateUsagePlanKey',
      method: 'POST',
      path: '/usageplans/{usagePlanId}/keys',
      body: true,
      status: 201,
      operation: operation(input.CreateUsagePlanKeyInput, fail, (request) => gateway.createUsagePlanKey(request)),
    },
    {
      name: 'GetUsagePlanKeys',
      method: 'GET',
      path: '/usageplans/{usagePlanId}/keys',
      query: { ...page, nameQuery: 'name' },
      status: 200,
      operation: operation(input.GetUsagePlanKeysInput, fail, (request) => gateway.getUsagePlanKeys(request)),
    },
    {
      name: 'DeleteUsagePlanKey',
      method: 'DELETE',
      path: '/usageplans/{usagePlanId}/keys/{keyId}',
      status: 202,
      operation: operation(input.UsagePlanKeyInput, fail, (request) => gateway.deleteUsagePlanKey(request)),
    },
  ];
}
