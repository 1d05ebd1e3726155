import { createHash } from 'node:crypto';
import type { RouteDeclaration } from '../../shared/declarations.js';

/**
 * The REST API's resources and methods, built from the service declaration's routes: `/orders/{id}` matches one
 * non-empty path segment as the path parameter `id`. A path or method that is not declared gets API Gateway's
 * 403 "Missing Authentication Token".
 */
export interface RouteMatch<F extends string = string> {
  route: RouteDeclaration<F>;
  /** API Gateway resource id (stable per resource path). */
  resourceId: string;
  pathParameters: Record<string, string> | null;
}

interface CompiledRoute<F extends string> {
  route: RouteDeclaration<F>;
  resourceId: string;
  segments: ({ literal: string } | { parameter: string })[];
  literalCount: number;
}

export class RouteTable<F extends string = string> {
  private readonly compiled: CompiledRoute<F>[];

  constructor(routes: readonly RouteDeclaration<F>[]) {
    const seen = new Set<string>();
    this.compiled = routes.map((route) => {
      const key = `${route.method} ${route.path}`;
      if (seen.has(key)) throw new Error(`Route ${key} is declared twice`);
      seen.add(key);
      const segments = splitPath(route.path).map((segment) => {
        const parameter = /^\{([A-Za-z_][\w]*)\}$/.exec(segment);
        if (parameter?.[1]) return { parameter: parameter[1] };
        if (segment.includes('{') || segment.includes('}')) {
          throw new Error(`Route ${key}: unsupported path segment '${segment}'`);
        }
        return { literal: segment };
      });
      return {
        route,
        resourceId: resourceIdOf(route.path),
        segments,
        literalCount: segments.filter((segment) => 'literal' in segment).length,
      };
    });
    // API Gateway prefers a literal resource over a path variable at the same level.
    this.compiled.sort((a, b) => b.literalCount - a.literalCount);
  }

  /** The declared route for this method and (stage-less, still percent-encoded) path, if any. */
  match(method: string, encodedPath: string): RouteMatch<F> | undefined {
    const segments = splitPath(encodedPath);
    for (const candidate of this.compiled) {
      if (candidate.route.method !== method || candidate.segments.length !== segments.length) continue;
      const parameters: Record<string, string> = {};
      let matched = true;
      for (const [index, segment] of candidate.segments.entries()) {
        const actual = segments[index] ?? '';
        let decoded: string;
        try {
          decoded = decodeURIComponent(actual);
        } catch {
          matched = false;
          break;
        }
        if ('literal' in segment) {
          if (decoded !== segment.literal) matched = false;
        } else if (decoded === '') {
          matched = false;
        } else {
          parameters[segment.parameter] = decoded;
        }
        if (!matched) break;
      }
      if (matched) {
        return {
          route: candidate.route,
          resourceId: candidate.resourceId,
          pathParameters: Object.keys(parameters).length > 0 ? parameters : null,
        };
      }
    }
    return undefined;
  }
}

/** Path segments without the leading slash; `/` is no segments, and an empty segment (`//`) stays empty. */
function splitPath(path: string): string[] {
  const trimmed = path.startsWith('/') ? path.slice(1) : path;
  return trimmed === '' ? [] : trimmed.split('/');
}

/** A 6-character lowercase id, like API Gateway's resource ids (e.g. roq9wj), stable for a resource path. */
export function resourceIdOf(resourcePath: string): string {
  return createHash('sha256').update(resourcePath).digest('hex').slice(0, 6);
}
