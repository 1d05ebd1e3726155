import { BlockList, isIP } from 'node:net';

/**
 * EventBridge event patterns (content filtering), as documented in the EventBridge user guide ("Event patterns",
 * "Comparison operators for use in event patterns") and implemented by AWS's Event Ruler:
 *
 * - A pattern is a JSON object. Every field it names must match (AND); a leaf is an array of alternatives (OR),
 *   each an exact value (string, number, true/false, null) or an operator object.
 * - Nested objects match nested objects of the event. Where the event holds an array, the pattern matches when
 *   any element matches (array values at a leaf: the intersection must be non-empty; arrays of objects: one
 *   element must satisfy the whole nested pattern, which is Ruler's "array-consistent" matching).
 * - Operators: prefix, suffix (each also `{ "equals-ignore-case": ... }`), equals-ignore-case, wildcard,
 *   anything-but (value, list, prefix, suffix, equals-ignore-case, wildcard), numeric ranges, exists, cidr,
 *   and `$or` (an array of at least two sub-patterns) at any object level.
 * - Exists (and every operator) works on leaf values only: a field holding an object, or an empty array, counts
 *   as absent, so `exists: false` matches it.
 *
 * Patterns are validated when compiled; an invalid one raises InvalidEventPatternError, which the API layer
 * reports as InvalidEventPatternException.
 */

export class InvalidEventPatternError extends Error {
  constructor(reason: string) {
    super(`Event pattern is not valid. Reason: ${reason}`);
    this.name = 'InvalidEventPatternError';
  }
}

type Scalar = string | number | boolean | null;

type ValueMatcher =
  | { kind: 'exact'; value: Scalar }
  | { kind: 'prefix'; value: string; ignoreCase: boolean }
  | { kind: 'suffix'; value: string; ignoreCase: boolean }
  | { kind: 'equals-ignore-case'; value: string }
  | { kind: 'wildcard'; regex: RegExp }
  | { kind: 'anything-but'; test: (value: Scalar) => boolean }
  | { kind: 'numeric'; conditions: Array<{ op: NumericOperator; bound: number }> }
  | { kind: 'exists'; exists: boolean }
  | { kind: 'cidr'; blockList: BlockList; family: 'ipv4' | 'ipv6' };

type NumericOperator = '<' | '<=' | '=' | '>' | '>=';

interface ObjectMatcher {
  fields: Array<{ key: string; leaf?: ValueMatcher[]; nested?: ObjectMatcher }>;
  /** Each entry is one `$or`: at least one of its alternatives must match. */
  ors: ObjectMatcher[][];
}

/** A validated, compiled event pattern. */
export class EventPattern {
  private constructor(
    private readonly root: ObjectMatcher,
    /** The pattern as JSON text, as DescribeRule and DescribeArchive return it. */
    readonly source: string,
  ) {}

  /** Parses and validates a pattern given as JSON text or as an object. */
  static compile(pattern: string | object): EventPattern {
    let value: unknown = pattern;
    if (typeof pattern === 'string') {
      try {
        value = JSON.parse(pattern);
      } catch {
        throw new InvalidEventPatternError('Filter is not valid JSON');
      }
    }
    if (!isPlainObject(value)) throw new InvalidEventPatternError('Filter is not an object');
    if (Object.keys(value).length === 0) throw new InvalidEventPatternError('Empty event patterns are not allowed');
    return new EventPattern(compileObject(value, ''), typeof pattern === 'string' ? pattern : JSON.stringify(pattern));
  }

  matches(event: unknown): boolean {
    return matchObject(this.root, event);
  }
}

/** Convenience: does `event` match `pattern` (JSON text, object or compiled)? Throws on an invalid pattern. */
export function matchesEventPattern(pattern: string | object | EventPattern, event: unknown): boolean {
  return (pattern instanceof EventPattern ? pattern : EventPattern.compile(pattern)).matches(event);
}

const OPERATORS = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is Scalar {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

// ---------------------------------------------------------------------------------------------------------------
// Compilation (validation)
// ---------------------------------------------------------------------------------------------------------------

function compileObject(pattern: Record<string, unknown>, path: string): ObjectMatcher {
  const matcher: ObjectMatcher = { fields: [], ors: [] };
  for (const [key, value] of Object.entries(pattern)) {
    const fieldPath = path ? `${path}.${key}` : key;
    if (key === '$or' && isOrList(value)) {
      matcher.ors.push(
        value.map((alternative) => {
          if (Object.keys(alternative).length === 0) throw new InvalidEventPatternError('Empty objects are not allowed in $or');
          return compileObject(alternative, path);
        }),
      );
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new InvalidEventPatternError(`Empty arrays are not allowed (at ${fieldPath})`);
      matcher.fields.push({ key, leaf: value.map((element) => compileValue(element, fieldPath)) });
    } else if (isPlainObject(value)) {
      if (Object.keys(value).length === 0) throw new InvalidEventPatternError(`Empty objects are not allowed (at ${fieldPath})`);
      matcher.fields.push({ key, nested: compileObject(value, fieldPath) });
    } else {
      throw new InvalidEventPatternError(`Match value must be an array or an object (at ${fieldPath})`);
    }
  }
  return matcher;
}

/** Ruler reads `$or` as OR only when it holds 2+ objects none of which uses an operator keyword as a field name. */
function isOrList(value: unknown): value is Array<Record<string, unknown>> {
  if (!Array.isArray(value)) return false;
  if (!value.every(isPlainObject)) return false;
  if (value.some((alternative) => Object.keys(alternative).some((k) => OPERATORS.has(k)))) return false;
  if (value.length < 2) throw new InvalidEventPatternError('$or must contain at least two sub-patterns');
  return true;
}

function compileValue(element: unknown, path: string): ValueMatcher {
  if (isScalar(element)) {
    if (typeof element === 'number' && !Number.isFinite(element)) {
      throw new InvalidEventPatternError(`Numbers must be finite (at ${path})`);
    }
    return { kind: 'exact', value: element };
  }
  if (!isPlainObject(element)) {
    throw new InvalidEventPatternError(`Match value must be String, number, true, false, or null (at ${path})`);
  }
  const keys = Object.keys(element);
  if (keys.length !== 1) {
    throw new InvalidEventPatternError(`Only one key allowed in a match expression (at ${path})`);
  }
  const operator = keys[0] as string;
  const operand = element[operator];
  switch (operator) {
    case 'prefix':
    case 'suffix': {
      if (typeof operand === 'string') return { kind: operator, value: operand, ignoreCase: false };
      if (isPlainObject(operand) && Object.keys(operand).length === 1 && typeof operand['equals-ignore-case'] === 'string') {
        return { kind: operator, value: (operand['equals-ignore-case'] as string).toLowerCase(), ignoreCase: true };
      }
      throw new InvalidEventPatternError(`${operator} match pattern must be a string (at ${path})`);
    }
    case 'equals-ignore-case':
      if (typeof operand !== 'string') {
        throw new InvalidEventPatternError(`equals-ignore-case match pattern must be a string (at ${path})`);
      }
      return { kind: 'equals-ignore-case', value: operand.toLowerCase() };
    case 'wildcard':
      if (typeof operand !== 'string') throw new InvalidEventPatternError(`wildcard match pattern must be a string (at ${path})`);
      return { kind: 'wildcard', regex: wildcardRegex(operand, path) };
    case 'anything-but':
      return { kind: 'anything-but', test: compileAnythingBut(operand, path) };
    case 'numeric':
      return { kind: 'numeric', conditions: compileNumeric(operand, path) };
    case 'exists':
      if (typeof operand !== 'boolean') throw new InvalidEventPatternError(`exists match pattern must be either true or false (at ${path})`);
      return { kind: 'exists', exists: operand };
    case 'cidr':
      return compileCidr(operand, path);
    default:
      throw new InvalidEventPatternError(`Unrecognized match type ${operator} (at ${path})`);
  }
}

/**
 * `*` matches any run of characters; consecutive `**` is not allowed; `\*` is a literal asterisk and `\\` a
 * literal backslash; a backslash before anything else is invalid (Event Ruler's rules).
 */
function wildcardRegex(pattern: string, path: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') {
        throw new InvalidEventPatternError(`Invalid escape in wildcard pattern (at ${path})`);
      }
      source += escapeRegex(next);
      i++;
    } else if (char === '*') {
      if (pattern[i + 1] === '*') {
        throw new InvalidEventPatternError(`Consecutive wildcard characters are not allowed (at ${path})`);
      }
      source += '.*';
    } else {
      source += escapeRegex(char);
    }
  }
  return new RegExp(`^${source}$`, 's');
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function compileAnythingBut(operand: unknown, path: string): (value: Scalar) => boolean {
  if (typeof operand === 'string' || typeof operand === 'number') {
    return (value) => !scalarEquals(value, operand);
  }
  if (Array.isArray(operand)) {
    if (operand.length === 0) throw new InvalidEventPatternError(`Empty arrays are not allowed in anything-but (at ${path})`);
    const allStrings = operand.every((v) => typeof v === 'string');
    const allNumbers = operand.every((v) => typeof v === 'number' && Number.isFinite(v));
    if (!allStrings && !allNumbers) {
      throw new InvalidEventPatternError(`Inside anything-but list, mixed types are not allowed (at ${path})`);
    }
    const excluded = operand as Array<string | number>;
    return (value) => !excluded.some((candidate) => scalarEquals(value, candidate));
  }
  if (isPlainObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length !== 1) throw new InvalidEventPatternError(`Only one key allowed in anything-but (at ${path})`);
    const inner = keys[0] as string;
    const innerValue = operand[inner];
    const values = Array.isArray(innerValue) ? innerValue : [innerValue];
    if (values.length === 0 || !values.every((v) => typeof v === 'string')) {
      throw new InvalidEventPatternError(`anything-but ${inner} match pattern must be a string (at ${path})`);
    }
    const strings = values as string[];
    // These forms only apply to string values (the docs: prefix/suffix/ignore-case/wildcard work on strings).
    switch (inner) {
      case 'prefix':
        if (Array.isArray(innerValue)) throw new InvalidEventPatternError(`anything-but prefix takes one string (at ${path})`);
        return (value) => typeof value === 'string' && !value.startsWith(strings[0] as string);
      case 'suffix':
        if (Array.isArray(innerValue)) throw new InvalidEventPatternError(`anything-but suffix takes one string (at ${path})`);
        return (value) => typeof value === 'string' && !value.endsWith(strings[0] as string);
      case 'equals-ignore-case': {
        const lowered = strings.map((s) => s.toLowerCase());
        return (value) => typeof value === 'string' && !lowered.includes(value.toLowerCase());
      }
      case 'wildcard': {
        const regexes = strings.map((s) => wildcardRegex(s, path));
        return (value) => typeof value === 'string' && !regexes.some((r) => r.test(value));
      }
      default:
        throw new InvalidEventPatternError(`Unsupported anything-but pattern: ${inner} (at ${path})`);
    }
  }
  throw new InvalidEventPatternError(`Value of anything-but must be an array, an object, a string or a number (at ${path})`);
}

function compileNumeric(operand: unknown, path: string): Array<{ op: NumericOperator; bound: number }> {
  const invalid = (reason: string) => new InvalidEventPatternError(`${reason} (at ${path})`);
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    throw invalid('Value of numeric must be an array of one or two comparisons');
  }
  const conditions: Array<{ op: NumericOperator; bound: number }> = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const bound = operand[i + 1];
    if (op !== '<' && op !== '<=' && op !== '=' && op !== '>' && op !== '>=') throw invalid(`Unrecognized numeric range operator: ${String(op)}`);
    if (typeof bound !== 'number' || !Number.isFinite(bound)) throw invalid('Value of numeric comparison must be a number');
    if (Math.abs(bound) > 5e9) throw invalid('Numeric values must be between -5.0e9 and +5.0e9 inclusive');
    conditions.push({ op, bound });
  }
  if (conditions.length === 2) {
    const [lower, upper] = conditions as [{ op: NumericOperator; bound: number }, { op: NumericOperator; bound: number }];
    // A range is a lower bound (> or >=) followed by an upper bound (< or <=), bottom below top.
    if (!(lower.op === '>' || lower.op === '>=') || !(upper.op === '<' || upper.op === '<=')) {
      throw invalid('A numeric range must be a lower bound (> or >=) followed by an upper bound (< or <=)');
    }
    if (lower.bound >= upper.bound) throw invalid('Bottom must be less than top');
  }
  return conditions;
}

function compileCidr(operand: unknown, path: string): ValueMatcher {
  if (typeof operand !== 'string') throw new InvalidEventPatternError(`cidr match pattern must be a string (at ${path})`);
  const slash = operand.indexOf('/');
  const address = slash === -1 ? operand : operand.slice(0, slash);
  const version = isIP(address);
  if (version === 0) throw new InvalidEventPatternError(`Malformed CIDR, one '/' required (at ${path})`);
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const maxPrefix = version === 4 ? 32 : 128;
  const prefix = slash === -1 ? maxPrefix : Number(operand.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix) {
    throw new InvalidEventPatternError(`Malformed CIDR prefix length (at ${path})`);
  }
  const blockList = new BlockList();
  blockList.addSubnet(address, prefix, family);
  return { kind: 'cidr', blockList, family };
}

// ---------------------------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------------------------

function matchObject(matcher: ObjectMatcher, value: unknown): boolean {
  // An array of objects matches when one element satisfies the whole sub-pattern (array-consistent matching).
  if (Array.isArray(value)) {
    const objects = flatten(value).filter(isPlainObject);
    return objects.length > 0 ? objects.some((element) => matchObject(matcher, element)) : matchObject(matcher, undefined);
  }
  const object = isPlainObject(value) ? value : undefined;
  for (const field of matcher.fields) {
    const fieldValue = object && Object.hasOwn(object, field.key) ? object[field.key] : undefined;
    if (field.leaf) {
      if (!matchLeaf(field.leaf, leafValues(fieldValue))) return false;
    } else if (field.nested) {
      if (!matchObject(field.nested, fieldValue)) return false;
    }
  }
  for (const alternatives of matcher.ors) {
    if (!alternatives.some((alternative) => matchObject(alternative, object))) return false;
  }
  return true;
}

function flatten(values: unknown[]): unknown[] {
  return values.flatMap((v) => (Array.isArray(v) ? flatten(v) : [v]));
}

/** The scalar values at a leaf: none when the field is absent, an object, or an array without scalars. */
function leafValues(value: unknown): Scalar[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return flatten(value).filter(isScalar);
  return isScalar(value) ? [value] : [];
}

function matchLeaf(matchers: ValueMatcher[], values: Scalar[]): boolean {
  return matchers.some((matcher) => {
    if (matcher.kind === 'exists') return matcher.exists === values.length > 0;
    return values.some((value) => matchValue(matcher, value));
  });
}

function matchValue(matcher: Exclude<ValueMatcher, { kind: 'exists' }>, value: Scalar): boolean {
  switch (matcher.kind) {
    case 'exact':
      return scalarEquals(value, matcher.value);
    case 'prefix':
      return typeof value === 'string' && (matcher.ignoreCase ? value.toLowerCase() : value).startsWith(matcher.value);
    case 'suffix':
      return typeof value === 'string' && (matcher.ignoreCase ? value.toLowerCase() : value).endsWith(matcher.value);
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === matcher.value;
    case 'wildcard':
      return typeof value === 'string' && matcher.regex.test(value);
    case 'anything-but':
      return matcher.test(value);
    case 'numeric':
      return typeof value === 'number' && matcher.conditions.every(({ op, bound }) => compare(value, op, bound));
    case 'cidr': {
      if (typeof value !== 'string') return false;
      const version = isIP(value);
      if (version === 0 || (version === 4 ? 'ipv4' : 'ipv6') !== matcher.family) return false;
      return matcher.blockList.check(value, matcher.family);
    }
  }
}

/** Numbers compare by value (300 equals 3.0e2); other scalars by type and value. */
function scalarEquals(a: Scalar, b: Scalar): boolean {
  return a === b;
}

function compare(value: number, op: NumericOperator, bound: number): boolean {
  switch (op) {
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
    case '=':
      return value === bound;
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
  }
}
