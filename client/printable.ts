/**
 * Text from the platform (order fields, partner names, error messages, response bodies) reaches an operator's
 * terminal. Anything in it that a terminal interprets is shown as a visible `\uXXXX` escape instead: C0 controls
 * (ESC of CSI/OSC sequences, NUL, CR, LF, BEL), DEL and C1 controls, lone surrogates, bidirectional overrides and
 * isolates (which reorder what the eye reads) and the Unicode line and paragraph separators. Used by every line
 * the CLI prints and by the runtime's console log.
 */

const UNSAFE =
  // eslint-disable-next-line no-control-regex -- refusing / escaping control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Characters JSON.stringify leaves as they are that a terminal would still act on (it escapes C0 and surrogates). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** The text with every character a terminal would act on replaced by its `\uXXXX` escape. */
export function printable(text: string): string {
  return text.replace(UNSAFE, escape);
}

/**
 * JSON.stringify whose text is also safe on a terminal: the characters it leaves raw are written as `\uXXXX`
 * escapes, which can only occur inside JSON strings and parse back to the same value.
 */
export function printableJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(UNSAFE_IN_JSON, escape);
}
