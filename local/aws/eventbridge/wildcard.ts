/**
 * Wildcard patterns as EventBridge (Event Ruler) reads them: `*` matches any run of characters, `**` is invalid,
 * `\*` is a literal asterisk and `\\` a literal backslash; a backslash before anything else is invalid.
 *
 * EventBridge also refuses wildcards whose matching would be too non-deterministic ("Rule is too complex"). Event
 * Ruler measures that as the machine's complexity: the largest number of wildcard-pattern prefixes that one input
 * string can match at once (MachineComplexityEvaluator). `wildcardComplexity` computes the same figure for the
 * wildcard patterns on one field.
 */

/** A parsed wildcard: literal characters, and STAR for each unescaped `*`. */
export type WildcardToken = string | typeof STAR;
export const STAR = Symbol('*');

/**
 * AWS does not publish its threshold. 8 is the smallest value that accepts the wildcard examples of AWS's docs,
 * Event Ruler's README (`*\/bin/*.jar` + `*\/bin/*.class` measures 8) and a public rule set AWS accepted
 * (`*\/datasync/*.tiff` + `*\/datasync/*.svs`, also 8). Known difference: AWS refused `*.bif`, `*.tiff`, `*.tif`,
 * `*.svs` on one field, which measures 8 too; we accept it.
 */
export const WILDCARD_COMPLEXITY_LIMIT = 8;

export class InvalidWildcardError extends Error {}

export function parseWildcard(pattern: string): WildcardToken[] {
  const tokens: WildcardToken[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') throw new InvalidWildcardError(`Invalid escape character at pos ${i + 1}`);
      tokens.push(next);
      i++;
    } else if (char === '*') {
      if (pattern[i + 1] === '*') throw new InvalidWildcardError(`Consecutive wildcard characters at pos ${i + 1}`);
      tokens.push(STAR);
    } else {
      tokens.push(char);
    }
  }
  return tokens;
}

export function wildcardRegex(tokens: WildcardToken[]): RegExp {
  const source = tokens.map((token) => (token === STAR ? '.*' : token.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 's');
}

/** A state of one pattern's automaton: pattern index and how many tokens it has consumed. */
type State = readonly [number, number];

/**
 * The largest number of wildcard-pattern prefixes one (non-empty) input can match at once, i.e. the number of
 * automaton states active together, each pattern having its own states; identical patterns count once. This
 * reproduces every figure of Ruler's MachineComplexityEvaluatorTest. Explores the subset automaton over the
 * patterns' characters plus one stand-in for every other character; stops early once `stopAbove` is exceeded.
 */
export function wildcardComplexity(patterns: string[], stopAbove = Number.POSITIVE_INFINITY): number {
  const automata = [...new Set(patterns)].map(parseWildcard);
  if (automata.length === 0) return 0;
  const alphabet = [...new Set(automata.flat().filter((t): t is string => t !== STAR)), '\u{10FFFF}'];
  const start = closure(automata, automata.map((_, p) => [p, 0] as const));
  const seen = new Set([key(start)]);
  const pending = [start];
  let maximum = 0;
  while (pending.length > 0 && seen.size < 20_000) {
    const states = pending.pop() as State[];
    for (const char of alphabet) {
      const next = closure(automata, step(automata, states, char));
      if (next.length === 0) continue;
      maximum = Math.max(maximum, next.length);
      if (maximum > stopAbove) return maximum;
      const id = key(next);
      if (!seen.has(id)) {
        seen.add(id);
        pending.push(next);
      }
    }
  }
  return maximum;
}

function step(automata: WildcardToken[][], states: State[], char: string): State[] {
  const next: State[] = [];
  for (const [p, k] of states) {
    const tokens = automata[p] as WildcardToken[];
    if (k > 0 && tokens[k - 1] === STAR) next.push([p, k]);
    if (k < tokens.length && tokens[k] === char) next.push([p, k + 1]);
  }
  return next;
}

/** Adds the states reachable by letting a `*` match nothing, and removes duplicates. */
function closure(automata: WildcardToken[][], states: State[]): State[] {
  const result = new Map<string, State>();
  const queue = [...states];
  while (queue.length > 0) {
    const state = queue.pop() as State;
    const id = `${state[0]}:${state[1]}`;
    if (result.has(id)) continue;
    result.set(id, state);
    if ((automata[state[0]] as WildcardToken[])[state[1]] === STAR) queue.push([state[0], state[1] + 1]);
  }
  return [...result.values()];
}

function key(states: State[]): string {
  return states
    .map(([p, k]) => `${p}:${k}`)
    .sort()
    .join(',');
}
