import { join } from 'node:path';
import type { ServiceDeclaration, UsagePlanDeclaration } from '../shared/declarations.js';
import { apiName, type PlatformNames } from '../shared/names.js';
import type { AuditLog } from './audit.js';
import type { LocalApiGateway, LocalRestApiDeclaration, LocalUsagePlanDeclaration } from './aws/api-gateway.js';
import type { LocalIpSetDeclaration, LocalWaf, LocalWebAclDeclaration } from './aws/wafv2.js';
import {
  apiIdOf,
  localGatewayResponses,
  partnerAllowlistPolicy,
  startApiGateway,
  type ApiGatewayOptions,
  type ApiKeyRegistry,
  type RunningApiGateway,
  type UsagePlanConfig,
} from './gateway/index.js';
import type { AuthorizationServer } from './identity/authorization-server.js';
import type { ListenerLimits } from './http/guard.js';
import { functionDefinitionsOf, LocalLambdaRuntime, type LambdaLogSink } from './lambda/index.js';
import { lambdaScheduleTarget, LocalScheduler } from './scheduler/index.js';

/**
 * One company on this machine, read from its declaration (car-orders/service.ts, tire-orders/service.ts) the way
 * its stack reads it: its functions, its API behind its web ACL (default action, rate rule, allowlist), its
 * resource policy and usage plan when declared, its schedules. Nothing here knows which company it runs.
 */

export type CompanyService = ServiceDeclaration<string>;

/** A company's part of the emulated control plane (WAFv2 and API Gateway), as its stack names and configures it. */
export interface CompanyControlPlane {
  apiId: string;
  webAcl: LocalWebAclDeclaration;
  /** The allow rule's IP set (a declared allowlist). */
  ipSet?: LocalIpSetDeclaration;
  /** The REST API, without its web ACL ARN (known once the local WAF exists). */
  restApi: Omit<LocalRestApiDeclaration, 'webAclArn'>;
  usagePlan?: LocalUsagePlanDeclaration & UsagePlanConfig;
}

export interface ControlPlaneInputs {
  stage: string;
  names: PlatformNames;
  /** The CIDRs of a `partners` allowlist: the car maker's egress as /32 (shared/allowlist.ts). */
  partnerAllowlist: readonly string[];
  /** Tests replace the declared quota or throttle. */
  usagePlanOverride?: Partial<UsagePlanDeclaration>;
}

export function companyControlPlane(service: CompanyService, inputs: ControlPlaneInputs): CompanyControlPlane {
  const { stage, names } = inputs;
  const name = apiName(stage, service);
  const apiId = apiIdOf(service.name);
  const allowlisted = service.firewall.allowlist === 'partners';
  const ipSet = allowlisted
    ? {
        name: names.partnerIpSet,
        description: 'Partner source addresses allowed to call the API',
        base: inputs.partnerAllowlist,
      }
    : undefined;
  const plan = service.usagePlan ? { ...service.usagePlan, ...inputs.usagePlanOverride } : undefined;
  return {
    apiId,
    webAcl: {
      name,
      defaultAction: service.firewall.defaultAction,
      rateLimitPer5Minutes: service.wafRateLimitPer5Minutes,
      ...(service.wafRateLimitResponse ? { rateLimitResponse: service.wafRateLimitResponse } : {}),
      ...(ipSet ? { ipSetName: ipSet.name } : {}),
    },
    ...(ipSet ? { ipSet } : {}),
    restApi: {
      apiId,
      name,
      description: service.api.description,
      stage,
      stageThrottle: service.stageThrottle,
      ...(allowlisted
        ? { policy: { document: partnerAllowlistPolicy(inputs.partnerAllowlist), baseCidrs: inputs.partnerAllowlist } }
        : {}),
    },
    ...(plan
      ? { usagePlan: { id: names.usagePlan, name: names.usagePlan, apiStages: [{ apiId, stage }], ...plan } }
      : {}),
  };
}

export interface CompanyBindings {
  stage: string;
  repoRoot: string;
  stateDir: string;
  host: string;
  /** The API's port; 0 for an ephemeral one. */
  port: number;
  audit: AuditLog;
  auth: AuthorizationServer;
  /** The functions' environment: the service's *Environment over local names, plus where the SDK sends its calls. */
  environment: Record<string, string>;
  /** Source address of the functions' outbound calls (the car maker's NAT egress). */
  egressAddress?: string;
  plane: CompanyControlPlane;
  controlPlane: { waf: LocalWaf; apiGateway: LocalApiGateway };
  apiKeys: ApiKeyRegistry;
  timeScale: number;
  log: (line: string) => void;
  logSink?: LambdaLogSink;
  /** Registers what to close when the runtime stops (closed in reverse order). */
  onClose: (closer: () => Promise<void> | void) => void;
  /** The gateway listener's limits (LISTENER_LIMITS by default). */
  listenerLimits?: Partial<ListenerLimits>;
  /** Execution environments per function; default defaultMaxEnvironments() (B2B_LAMBDA_MAX_ENVIRONMENTS, the cores). */
  lambdaMaxEnvironments?: number;
}

export interface RunningCompany {
  lambda: LocalLambdaRuntime;
  scheduler: LocalScheduler;
  gateway: RunningApiGateway;
  /** What the gateway was started with: a test takes the supplier down and brings it back on the same port. */
  gatewayOptions: ApiGatewayOptions;
  /** Settles once every function is built and has one initialised environment; rejects on a build error. */
  warm: Promise<void>;
}

/** Builds the company's functions, starts its gateway and prepares (does not start) its schedules. */
export async function startCompany(service: CompanyService, bindings: CompanyBindings): Promise<RunningCompany> {
  const { audit } = bindings;
  const lambda = new LocalLambdaRuntime({
    company: service.name,
    repoRoot: bindings.repoRoot,
    buildDir: join(bindings.stateDir, 'build', service.name),
    audit,
    functions: functionDefinitionsOf(service.functions, bindings.environment, {
      ...(bindings.egressAddress ? { egressAddress: bindings.egressAddress } : {}),
      ...(bindings.lambdaMaxEnvironments !== undefined ? { maxConcurrency: bindings.lambdaMaxEnvironments } : {}),
    }),
    ...(bindings.logSink ? { logSink: bindings.logSink } : {}),
  });
  bindings.onClose(() => lambda.close());
  // One warm environment per function (provisioned concurrency), built and initialised while the rest starts; the
  // runtime awaits `warm` before its ready line. Marked handled here: a build error is thrown where it is awaited.
  const warm = lambda.prewarm();
  warm.catch(() => undefined);

  const scheduler = new LocalScheduler({
    company: service.name,
    schedules: service.schedules,
    target: lambdaScheduleTarget(lambda),
    timeScale: bindings.timeScale,
    audit,
    log: bindings.log,
  });
  bindings.onClose(() => scheduler.close());

  const gatewayOptions = gatewayOptionsOf(service, bindings, async (functionName, event) => {
    const result = await lambda.invoke(functionName, event);
    return result.outcome === 'ok' ? (result.payload as never) : result.error;
  });
  const gateway = await startApiGateway(gatewayOptions);
  bindings.onClose(() => gateway.close());
  return { lambda, scheduler, gateway, gatewayOptions, warm };
}

function gatewayOptionsOf(
  service: CompanyService,
  bindings: CompanyBindings,
  invoke: ApiGatewayOptions['invoke'],
): ApiGatewayOptions {
  const { plane } = bindings;
  const { waf, apiGateway } = bindings.controlPlane;
  return {
    company: service.name,
    service,
    stage: bindings.stage,
    host: bindings.host,
    port: bindings.port,
    apiId: plane.apiId,
    // Both read at every request: UpdateIPSet and UpdateRestApi + CreateDeployment change them at run time.
    waf: { defaultAction: plane.webAcl.defaultAction, allowCidrs: plane.ipSet ? waf.matcher(plane.ipSet.name) : [] },
    ...(plane.restApi.policy
      ? { resourcePolicy: { deployedPolicy: () => apiGateway.deployedPolicy(plane.apiId) } }
      : {}),
    authorizer: { issuer: bindings.auth.issuer, jwksUri: bindings.auth.jwksUri },
    ...(plane.usagePlan ? { usagePlan: plane.usagePlan, apiKeys: bindings.apiKeys } : {}),
    invoke,
    audit: bindings.audit,
    ...(bindings.listenerLimits ? { listenerLimits: bindings.listenerLimits } : {}),
    gatewayResponses: localGatewayResponses(service.api.gatewayResponses),
  };
}
