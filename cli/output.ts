import { printable, printableJson } from '../client/printable.js';

/**
 * Small formatting helpers for the human output (aligned tables and key/value blocks), and the one escaping every
 * printed value goes through: `printable` (human lines, progress and errors) and `printableJson` (--json), so a
 * value holding terminal escapes (ESC, CSI, OSC), NUL, CR/LF, lone surrogates or bidi overrides prints escaped.
 */
export { printable, printableJson };

/** Cuts a one-line text to `max` characters (with …), after escaping, so escapes count in the width. */
export function truncate(text: string, max: number): string {
  const safe = printable(text);
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | undefined;
  /** Cut longer values (with …) so one column cannot push the others off the screen. */
  max?: number;
}

export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string[] {
  const cells = rows.map((row) =>
    columns.map((column) => {
      const raw = column.value(row);
      const text = raw === undefined || raw === '' ? '-' : printable(String(raw));
      return column.max !== undefined && text.length > column.max ? `${text.slice(0, column.max - 1)}…` : text;
    }),
  );
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...cells.map(line)];
}

export function keyValues(entries: readonly [string, string | number | undefined][], indent = '  '): string[] {
  const width = Math.max(...entries.map(([key]) => key.length));
  return entries.map(
    ([key, value]) =>
      `${indent}${key.padEnd(width)}  ${value === undefined || value === '' ? '-' : printable(String(value))}`,
  );
}
