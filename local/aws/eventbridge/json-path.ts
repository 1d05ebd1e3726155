/**
 * The JSON paths EventBridge accepts in InputPath, HttpParameters.PathParameterValues and HeaderParameters:
 * `$`, `$.a.b`, `$['a-b']`, `$.items[0]` (a definite path: no wildcards, filters or slices).
 */

export class InvalidJsonPathError extends Error {
  constructor(path: string, reason: string) {
    super(`Invalid JSON path ${path}: ${reason}`);
    this.name = 'InvalidJsonPathError';
  }
}

type Segment = string | number;

export function isJsonPath(text: string): boolean {
  return text === '$' || text.startsWith('$.') || text.startsWith('$[');
}

export function parseJsonPath(path: string): Segment[] {
  if (!isJsonPath(path)) throw new InvalidJsonPathError(path, 'must start with $');
  const segments: Segment[] = [];
  let i = 1;
  while (i < path.length) {
    const char = path[i];
    if (char === '.') {
      const match = /^[^.[\]]+/.exec(path.slice(i + 1));
      if (!match) throw new InvalidJsonPathError(path, `empty name at ${i}`);
      segments.push(match[0]);
      i += 1 + match[0].length;
    } else if (char === '[') {
      const rest = path.slice(i);
      const quoted = /^\[(['"])((?:\\.|(?!\1).)*)\1\]/.exec(rest);
      const index = /^\[(\d+)\]/.exec(rest);
      if (quoted) {
        segments.push((quoted[2] as string).replace(/\\(.)/g, '$1'));
        i += quoted[0].length;
      } else if (index) {
        segments.push(Number(index[1]));
        i += index[0].length;
      } else {
        throw new InvalidJsonPathError(path, `unsupported selector at ${i}`);
      }
    } else {
      throw new InvalidJsonPathError(path, `unexpected character at ${i}`);
    }
  }
  return segments;
}

/** The value at `path` in `document`, or undefined when the path does not exist. */
export function selectJsonPath(document: unknown, path: string): unknown {
  let current: unknown = document;
  for (const segment of parseJsonPath(path)) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[segment];
    } else {
      if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
      if (!Object.hasOwn(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}
