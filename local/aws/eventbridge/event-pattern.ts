import { BlockList, isIP } from 'node:net';
import {
  InvalidWildcardError,
  WILDCARD_COMPLEXITY_LIMIT,
  parseWildcard,
  wildcardComplexity,
  wildcardMatcher,
} from './wildcard.js';

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
 * - A dotted key (`"detail.state"`) is a path: Ruler names every field by its keys joined with `.`, so
 *   `{"detail.state": [...]}` and `{"detail": {"state": [...]}}` are the same pattern, and an event key
 *   `"detail.state"` is the same field as `detail` -> `state`.
 *
 * Patterns are validated when compiled; an invalid one raises InvalidEventPatternError, which the API layer
 * reports as InvalidEventPatternException. The conformance corpus (local/tests/conformance) holds AWS's answers.
 */

export class InvalidEventPatternError extends Error {
  constructor(reason: string) {
    super(`Event pattern is not valid. Reason: ${reason}`);
    this.name = 'InvalidEventPatternError';
  }

  /** The error type EventBridge answers with. */
  readonly type = 'InvalidEventPatternException';
}

/** AWS's message for a wildcard over the complexity limit (quoted in public AWS answers). */
export const RULE_TOO_COMPLEX =
  'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character';

type Scalar = string | number | boolean | null;

type ValueMatcher =
  | { kind: 'exact'; value: Scalar }
  | { kind: 'prefix'; value: string; ignoreCase: boolean }
  | { kind: 'suffix'; value: string; ignoreCase: boolean }
  | { kind: 'equals-ignore-case'; value: string }
  | { kind: 'wildcard'; test: (value: string) => boolean }
  | { kind: 'anything-but'; test: (value: Scalar) => boolean }
  | { kind: 'numeric'; conditions: Array<{ op: NumericOperator; bound: number }> }
  | { kind: 'exists'; exists: boolean }
  | { kind: 'cidr'; blockList: BlockList; family: 'ipv4' | 'ipv6' };

type NumericOperator = '<' | '<=' | '=' | '>' | '>=';

/** The wildcard patterns (plain and anything-but) on each field path, for the complexity check. */
type WildcardsByPath = Map<string, string[]>;

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
    const wildcards: WildcardsByPath = new Map();
    const root = compileObject(value, '', wildcards);
    for (const patterns of wildcards.values()) {
      if (wildcardComplexity(patterns, WILDCARD_COMPLEXITY_LIMIT) > WILDCARD_COMPLEXITY_LIMIT) {
        throw new InvalidEventPatternError(RULE_TOO_COMPLEX);
      }
    }
    return new EventPattern(root, typeof pattern === 'string' ? pattern : JSON.stringify(pattern));
  }

  matches(event: unknown): boolean {
    return matchObject(this.root, expandDottedKeys(event));
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

interface CompileContext {
  path: string;
  wildcards: WildcardsByPath;
}

function compileObject(pattern: Record<string, unknown>, path: string, wildcards: WildcardsByPath): ObjectMatcher {
  const matcher: ObjectMatcher = { fields: [], ors: [] };
  for (const [key, value] of Object.entries(pattern)) {
    if (key === '$or' && isOrList(value)) {
      matcher.ors.push(
        value.map((alternative) => {
          if (Object.keys(alternative).length === 0)
            throw new InvalidEventPatternError('Empty objects are not allowed in $or');
          return compileObject(alternative, path, wildcards);
        }),
      );
    } else {
      matcher.fields.push(compileField(key.split('.'), value, path, wildcards));
    }
  }
  return matcher;
}

/** One pattern field; a dotted key becomes the same nesting as the equivalent nested objects. */
function compileField(
  segments: string[],
  value: unknown,
  path: string,
  wildcards: WildcardsByPath,
): ObjectMatcher['fields'][number] {
  const [key, ...rest] = segments as [string, ...string[]];
  const fieldPath = path ? `${path}.${key}` : key;
  if (rest.length > 0) {
    return { key, nested: { fields: [compileField(rest, value, fieldPath, wildcards)], ors: [] } };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) throw new InvalidEventPatternError(`Empty arrays are not allowed (at ${fieldPath})`);
    return { key, leaf: value.map((element) => compileValue(element, { path: fieldPath, wildcards })) };
  }
  if (isPlainObject(value)) {
    if (Object.keys(value).length === 0)
      throw new InvalidEventPatternError(`Empty objects are not allowed (at ${fieldPath})`);
    return { key, nested: compileObject(value, fieldPath, wildcards) };
  }
  throw new InvalidEventPatternError(`Match value must be an array or an object (at ${fieldPath})`);
}

/** Ruler reads `$or` as OR only when it holds 2+ objects none of which uses an operator keyword as a field name. */
function isOrList(value: unknown): value is Array<Record<string, unknown>> {
  if (!Array.isArray(value)) return false;
  if (!value.every(isPlainObject)) return false;
  if (value.some((alternative) => Object.keys(alternative).some((k) => OPERATORS.has(k)))) return false;
  if (value.length < 2) throw new InvalidEventPatternError('$or must contain at least two sub-patterns');
  return true;
}

function compileValue(element: unknown, context: CompileContext): ValueMatcher {
  const { path } = context;
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
  return compileOperator(keys[0] as string, element[keys[0] as string], context);
}

function compileOperator(operator: string, operand: unknown, context: CompileContext): ValueMatcher {
  const { path } = context;
  switch (operator) {
    case 'prefix':
    case 'suffix':
      return compilePrefixOrSuffix(operator, operand, path);
    case 'equals-ignore-case':
      if (typeof operand !== 'string') {
        throw new InvalidEventPatternError(`equals-ignore-case match pattern must be a string (at ${path})`);
      }
      return { kind: 'equals-ignore-case', value: operand.toLowerCase() };
    case 'wildcard':
      if (typeof operand !== 'string')
        throw new InvalidEventPatternError(`wildcard match pattern must be a string (at ${path})`);
      return { kind: 'wildcard', test: compileWildcard(operand, context) };
    case 'anything-but':
      return { kind: 'anything-but', test: compileAnythingBut(operand, context) };
    case 'numeric':
      return { kind: 'numeric', conditions: compileNumeric(operand, path) };
    case 'exists':
      if (typeof operand !== 'boolean')
        throw new InvalidEventPatternError(`exists match pattern must be either true or false (at ${path})`);
      return { kind: 'exists', exists: operand };
    case 'cidr':
      return compileCidr(operand, path);
    default:
      throw new InvalidEventPatternError(`Unrecognized match type ${operator} (at ${path})`);
  }
}

/**
 * `prefix`/`suffix`: a string, or `{ "equals-ignore-case": "<string>" }`. Ruler accepts an empty one here (it
 * matches every string); only anything-but refuses empty prefixes and suffixes.
 */
function compilePrefixOrSuffix(operator: 'prefix' | 'suffix', operand: unknown, path: string): ValueMatcher {
  if (typeof operand === 'string') return { kind: operator, value: operand, ignoreCase: false };
  if (
    isPlainObject(operand) &&
    Object.keys(operand).length === 1 &&
    typeof operand['equals-ignore-case'] === 'string'
  ) {
    return { kind: operator, value: operand['equals-ignore-case'].toLowerCase(), ignoreCase: true };
  }
  throw new InvalidEventPatternError(`${operator} match pattern must be a string (at ${path})`);
}

/** Validates a wildcard and records it for the field's complexity check. */
function compileWildcard(pattern: string, { path, wildcards }: CompileContext): (value: string) => boolean {
  try {
    const matcher = wildcardMatcher(parseWildcard(pattern));
    wildcards.set(path, [...(wildcards.get(path) ?? []), pattern]);
    return matcher;
  } catch (error) {
    if (error instanceof InvalidWildcardError) throw new InvalidEventPatternError(`${error.message} (at ${path})`);
    throw error;
  }
}

function compileAnythingBut(operand: unknown, context: CompileContext): (value: Scalar) => boolean {
  const { path } = context;
  if (typeof operand === 'string' || (typeof operand === 'number' && Number.isFinite(operand))) {
    return (value) => !scalarEquals(value, operand);
  }
  if (Array.isArray(operand)) {
    if (operand.length === 0)
      throw new InvalidEventPatternError(`Empty arrays are not allowed in anything-but (at ${path})`);
    const allStrings = operand.every((v) => typeof v === 'string');
    const allNumbers = operand.every((v) => typeof v === 'number' && Number.isFinite(v));
    if (!allStrings && !allNumbers) {
      throw new InvalidEventPatternError(`Inside anything-but list, mixed types are not allowed (at ${path})`);
    }
    const excluded = operand as Array<string | number>;
    return (value) => !excluded.some((candidate) => scalarEquals(value, candidate));
  }
  if (isPlainObject(operand)) return compileAnythingButOperator(operand, context);
  throw new InvalidEventPatternError(
    `Value of anything-but must be an array, an object, a string or a number (at ${path})`,
  );
}

/**
 * `anything-but` with prefix / suffix / equals-ignore-case / wildcard, each a string or a list of strings. These
 * exclude strings only: any other value (a number, true/false, null) matches, as in Ruler.
 */
function compileAnythingButOperator(
  operand: Record<string, unknown>,
  context: CompileContext,
): (value: Scalar) => boolean {
  const { path } = context;
  const keys = Object.keys(operand);
  if (keys.length !== 1) throw new InvalidEventPatternError(`Only one key allowed in anything-but (at ${path})`);
  const inner = keys[0] as string;
  const innerValue = operand[inner];
  const values = Array.isArray(innerValue) ? innerValue : [innerValue];
  if (values.length === 0 || !values.every((v) => typeof v === 'string')) {
    throw new InvalidEventPatternError(`anything-but ${inner} match pattern must be a string (at ${path})`);
  }
  const strings = values as string[];
  const excludes = (predicate: (value: string) => boolean) => (value: Scalar) =>
    typeof value !== 'string' || !predicate(value);
  switch (inner) {
    case 'prefix':
    case 'suffix': {
      if (strings.includes('')) throw new InvalidEventPatternError(`Null prefix/suffix not allowed (at ${path})`);
      return inner === 'prefix'
        ? excludes((value) => strings.some((s) => value.startsWith(s)))
        : excludes((value) => strings.some((s) => value.endsWith(s)));
    }
    case 'equals-ignore-case': {
      const lowered = strings.map((s) => s.toLowerCase());
      return excludes((value) => lowered.includes(value.toLowerCase()));
    }
    case 'wildcard': {
      const matchers = strings.map((s) => compileWildcard(s, context));
      return excludes((value) => matchers.some((matches) => matches(value)));
    }
    default:
      throw new InvalidEventPatternError(`Unsupported anything-but pattern: ${inner} (at ${path})`);
  }
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
    if (op !== '<' && op !== '<=' && op !== '=' && op !== '>' && op !== '>=')
      throw invalid(`Unrecognized numeric range operator: ${String(op)}`);
    if (typeof bound !== 'number' || !Number.isFinite(bound))
      throw invalid('Value of numeric comparison must be a number');
    if (Math.abs(bound) > 5e9) throw invalid('Numeric values must be between -5.0e9 and +5.0e9 inclusive');
    conditions.push({ op, bound });
  }
  if (conditions.length === 2) {
    const [lower, upper] = conditions as [
      { op: NumericOperator; bound: number },
      { op: NumericOperator; bound: number },
    ];
    // A range is a lower bound (> or >=) followed by an upper bound (< or <=), bottom below top.
    if (!(lower.op === '>' || lower.op === '>=') || !(upper.op === '<' || upper.op === '<=')) {
      throw invalid('A numeric range must be a lower bound (> or >=) followed by an upper bound (< or <=)');
    }
    if (lower.bound >= upper.bound) throw invalid('Bottom must be less than top');
  }
  return conditions;
}

function compileCidr(operand: unknown, path: string): ValueMatcher {
  if (typeof operand !== 'string')
    throw new InvalidEventPatternError(`cidr match pattern must be a string (at ${path})`);
  const parts = operand.split('/');
  if (parts.length !== 2) throw new InvalidEventPatternError(`Malformed CIDR, one '/' required (at ${path})`);
  const [address, prefixText] = parts as [string, string];
  const version = isIP(address);
  if (version === 0)
    throw new InvalidEventPatternError(`Malformed CIDR, nonstandard IP address: ${address} (at ${path})`);
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const maxPrefix = version === 4 ? 32 : 128;
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= maxPrefix)) {
    throw new InvalidEventPatternError(`Malformed CIDR, prefix length must be between 0 and ${maxPrefix} (at ${path})`);
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
    return objects.length > 0
      ? objects.some((element) => matchObject(matcher, element))
      : matchObject(matcher, undefined);
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

/**
 * The event with every dotted key (`"a.b": v`) moved to the nesting it names (`"a": {"b": v}`), because Ruler
 * names fields by their keys joined with `.`. Where both spellings hold a value, the field holds both (an array).
 * Returns the event itself when it has no dotted key.
 */
function expandDottedKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    const elements = value.map(expandDottedKeys);
    return elements.every((element, i) => element === value[i]) ? value : elements;
  }
  if (!isPlainObject(value)) return value;
  const entries = Object.entries(value);
  const expanded = entries.map(([key, v]) => [key, expandDottedKeys(v)] as const);
  if (expanded.every(([key, v], i) => !key.includes('.') && v === entries[i]?.[1])) return value;
  const result: Record<string, unknown> = {};
  for (const [key, v] of expanded) {
    const segments = key.split('.');
    const last = segments.pop() as string;
    let target = result;
    for (const segment of segments) {
      const existing = target[segment];
      if (!isPlainObject(existing)) target[segment] = existing === undefined ? {} : mergeValues(existing, {});
      target = (isPlainObject(target[segment]) ? target[segment] : lastObject(target[segment] as unknown[])) as Record<
        string,
        unknown
      >;
    }
    target[last] = Object.hasOwn(target, last) ? mergeValues(target[last], v) : v;
  }
  return result;
}

/** Two values for one field: objects merge key by key; anything else becomes the list of both. */
function mergeValues(a: unknown, b: unknown): unknown {
  if (isPlainObject(a) && isPlainObject(b)) {
    const merged: Record<string, unknown> = { ...a };
    for (const [key, v] of Object.entries(b))
      merged[key] = Object.hasOwn(merged, key) ? mergeValues(merged[key], v) : v;
    return merged;
  }
  return [...(Array.isArray(a) ? a : [a]), ...(Array.isArray(b) ? b : [b])];
}

function lastObject(values: unknown[]): Record<string, unknown> {
  return values[values.length - 1] as Record<string, unknown>;
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
      return typeof value === 'string' && matcher.test(value);
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
