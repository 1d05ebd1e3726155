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

/** Stands for every character no pattern names (only states just after a STAR take it). */
const OTHER_CHARACTER = '\u{10FFFF}';

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

/**
 * A matcher for the parsed wildcard. Greedy two-pointer matching, O(pattern x value) at worst: a regular
 * expression of `.*` runs can backtrack polynomially on a long event value and stall the event loop.
 */
export function wildcardMatcher(tokens: WildcardToken[]): (value: string) => boolean {
  return (value) => {
    let t = 0;
    let v = 0;
    let starAt = -1;
    let resumeAt = 0;
    while (v < value.length) {
      if (t < tokens.length && tokens[t] === STAR) {
        starAt = t++;
        resumeAt = v;
      } else if (t < tokens.length && tokens[t] === value[v]) {
        t++;
        v++;
      } else if (starAt !== -1) {
        t = starAt + 1;
        v = ++resumeAt;
      } else {
        return false;
      }
    }
    while (t < tokens.length && tokens[t] === STAR) t++;
    return t === tokens.length;
  };
}

/**
 * The largest number of wildcard-pattern prefixes one (non-empty) input can match at once, i.e. the number of
 * automaton states active together, each pattern having its own states; identical patterns count once. This
 * reproduces every figure of Ruler's MachineComplexityEvaluatorTest. Explores the subset automaton, trying from
 * each set the characters its states name plus one stand-in for all others; stops once `stopAbove` is exceeded.
 */
export function wildcardComplexity(patterns: string[], stopAbove = Number.POSITIVE_INFINITY): number {
  const automaton = buildAutomaton([...new Set(patterns)].map(parseWildcard));
  if (automaton.loops.length === 0) return 0;
  const start = automaton.closure(automaton.starts);
  const seen = new Set([start.join(',')]);
  const pending = [start];
  let maximum = 0;
  while (pending.length > 0 && seen.size < 50_000) {
    const states = pending.pop() as number[];
    for (const char of automaton.inputsFrom(states)) {
      const next = automaton.closure(automaton.step(states, char));
      if (next.length === 0) continue;
      maximum = Math.max(maximum, next.length);
      if (maximum > stopAbove) return maximum;
      const id = next.join(',');
      if (!seen.has(id)) {
        seen.add(id);
        pending.push(next);
      }
    }
  }
  return maximum;
}

/**
 * All patterns' automata numbered as one: state `i` has consumed the pattern's tokens up to `i`; `literal[i]` is
 * the character that leads to `i + 1` (undefined for a STAR or a pattern's end), `star[i]` says a STAR follows
 * (so `i + 1` is reachable without input), and `loops[i]` that `i` is just after a STAR (it takes any character).
 */
function buildAutomaton(automata: WildcardToken[][]) {
  const literal: Array<string | undefined> = [];
  const star: boolean[] = [];
  const loops: boolean[] = [];
  const starts: number[] = [];
  for (const tokens of automata) {
    starts.push(loops.length);
    tokens.forEach((token, k) => {
      literal.push(token === STAR ? undefined : token);
      star.push(token === STAR);
      loops.push(k > 0 && tokens[k - 1] === STAR);
    });
    literal.push(undefined);
    star.push(false);
    loops.push(tokens.length > 0 && tokens[tokens.length - 1] === STAR);
  }
  /** The characters that lead somewhere different from `states`, plus one stand-in for all the others. */
  const inputsFrom = (states: number[]) => {
    const chars = new Set<string>();
    for (const state of states) if (literal[state] !== undefined) chars.add(literal[state] as string);
    return [...chars, OTHER_CHARACTER];
  };
  const step = (states: number[], char: string) => {
    const next: number[] = [];
    for (const state of states) {
      if (loops[state]) next.push(state);
      if (literal[state] === char) next.push(state + 1);
    }
    return next;
  };
  /** Adds the states a STAR matching nothing reaches; returns them sorted, without duplicates. */
  const closure = (states: number[]) => {
    const result = new Set<number>();
    for (let state of states) {
      result.add(state);
      while (star[state]) result.add(++state);
    }
    return [...result].sort((x, y) => x - y);
  };
  return { inputsFrom, loops, starts, step, closure };
}
