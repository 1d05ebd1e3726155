import type {
  AwsJsonOperation,
  AwsRequestContext,
  AwsRestJsonService,
  AwsRestRequest,
  AwsRestResponse,
} from './protocol.js';

/**
 * The REST-JSON side of the protocol layer (API Gateway's control plane): a table of routes, each a method and a
 * path template. A route's input is one object under the operation's member names, assembled from its path labels,
 * its query parameters and its JSON body, and handed to an `operation` (schema.ts), which checks it against the
 * operation's schema before the operation runs; the output is sent with the route's status code.
 */

export interface RestRoute {
  /** The AWS operation, e.g. GetApiKeys. */
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** A `{member}` segment binds that path segment to the input member, e.g. /apikeys/{apiKey}. */
  path: string;
  /** Input member -> query parameter, for the members sent in the query string (e.g. nameQuery: 'name'). */
  query?: Readonly<Record<string, string>>;
  /** The operation reads a JSON body, whose members are input members. */
  body?: boolean;
  /** A success's status: 200, 201 for a Create*, 202 (sent without a body) for a Delete*. */
  status: 200 | 201 | 202;
  operation: AwsJsonOperation;
}

/** The segments of the path bound to each `{member}` of the template, or undefined when the path does not match. */
function labelsOf(template: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  if (template.length !== segments.length) return undefined;
  const labels: Record<string, string> = {};
  for (const [index, part] of template.entries()) {
    const segment = segments[index] as string;
    const label = /^\{(\w+)\}$/.exec(part)?.[1];
    if (label !== undefined) labels[label] = segment;
    else if (part !== segment) return undefined;
  }
  return labels;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function inputOf(route: RestRoute, labels: Record<string, string>, request: AwsRestRequest): unknown {
  // A body that is not an object goes to the schema as the input, which refuses it as AWS's deserializer does.
  if (route.body && request.body !== undefined && !isJsonObject(request.body)) return request.body;
  const input: Record<string, unknown> = route.body && isJsonObject(request.body) ? { ...request.body } : {};
  for (const [member, parameter] of Object.entries(route.query ?? {})) {
    const value = request.query.get(parameter);
    if (value !== null) input[member] = value;
  }
  return { ...input, ...labels };
}

async function respond(route: RestRoute, input: unknown, context: AwsRequestContext): Promise<AwsRestResponse> {
  const output = await route.operation(input, context);
  return route.status === 202 ? { statusCode: 202 } : { statusCode: route.status, body: output };
}

/** A REST-JSON service and the operations its routes serve. */
export interface RestJsonService extends AwsRestJsonService {
  operations: readonly string[];
}

/** A REST-JSON service over its route table: a request no route matches is left to the next service. */
export function restJsonService(name: string, routes: readonly RestRoute[]): RestJsonService {
  const compiled = routes.map((route) => ({ route, template: route.path.split('/').filter(Boolean) }));
  return {
    name,
    operations: routes.map((route) => route.name),
    route(method, segments) {
      for (const { route, template } of compiled) {
        const labels = route.method === method ? labelsOf(template, segments) : undefined;
        if (labels) return (request, context) => respond(route, inputOf(route, labels, request), context);
      }
      return undefined;
    },
  };
}
