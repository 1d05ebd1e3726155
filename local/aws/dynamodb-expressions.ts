/**
 * Bounds on DynamoDB expressions, checked before a request reaches dynalite. dynalite's PEG parsers backtrack
 * exponentially on nested parentheses (`((((((((` took > 30 s on the runtime's only event loop, and each level
 * roughly triples the time), so an expression is refused when it is longer than DynamoDB's documented 4 KB limit or
 * nests parentheses deeper than MAX_NESTING. DynamoDB documents no nesting limit; 4 levels is what the deepest
 * expression the services write needs (car-orders' complete condition; Powertools Idempotency needs 2), and keeps
 * dynalite's worst case around a second.
 * The refusal is DynamoDB's ValidationException (400, `com.amazon.coral.validate#ValidationException`).
 */

export const MAX_EXPRESSION_BYTES = 4096;
export const MAX_NESTING = 4;

/** Why an expression member of a DynamoDB request is refused, or undefined when all are within bounds. */
export function expressionProblem(request: unknown): string | undefined {
  for (const [member, expression] of expressionsIn(request)) {
    if (Buffer.byteLength(expression, 'utf8') > MAX_EXPRESSION_BYTES) {
      return `Invalid ${member}: Expression size has exceeded the maximum allowed size of ${MAX_EXPRESSION_BYTES} bytes`;
    }
    if (nestingOf(expression) > MAX_NESTING) {
      return `Invalid ${member}: The expression nests parentheses more than ${MAX_NESTING} levels deep (a local runtime limit)`;
    }
  }
  return undefined;
}

/** Every string member named *Expression, at any depth (BatchGetItem keeps its ProjectionExpression per table). */
function expressionsIn(value: unknown, found: [string, string][] = [], depth = 0): [string, string][] {
  if (value === null || typeof value !== 'object' || depth > 4) return found;
  for (const [key, member] of Object.entries(value)) {
    if (typeof member === 'string' && key.endsWith('Expression')) found.push([key, member]);
    else if (typeof member === 'object') expressionsIn(member, found, depth + 1);
  }
  return found;
}

/** The deepest run of open parentheses; an unbalanced `(` counts as open to the end. */
function nestingOf(expression: string): number {
  let depth = 0;
  let deepest = 0;
  for (const character of expression) {
    if (character === '(') deepest = Math.max(deepest, ++depth);
    else if (character === ')') depth = Math.max(0, depth - 1);
  }
  return deepest;
}
