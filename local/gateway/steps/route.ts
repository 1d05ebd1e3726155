import { RouteTable } from '../routes.js';
import { refusal, type Step, type StepConfig } from './step.js';

/** The stage, resource and method must exist -> else 403 Missing Authentication Token (API Gateway's wording). */
export function routeStep({ options }: StepConfig): Step {
  const routes = new RouteTable(options.service.routes);
  const stagePrefix = `/${options.stage}`;
  return {
    decider: 'route',
    run(request) {
      const stagePath = pathInStage(request.path, stagePrefix);
      const match = stagePath === undefined ? undefined : routes.match(request.method, stagePath);
      if (!match || stagePath === undefined) return refusal('MISSING_AUTHENTICATION_TOKEN');
      request.route = { match, stagePath };
      return undefined;
    },
  };
}

/** The path after `/{stage}` ('/' for the stage itself), or undefined for a path outside the stage. */
export function pathInStage(fullPath: string, stagePrefix: string): string | undefined {
  if (fullPath === stagePrefix) return '/';
  return fullPath.startsWith(`${stagePrefix}/`) ? fullPath.slice(stagePrefix.length) : undefined;
}
