/** Small formatting helpers for the human output: aligned tables and key/value blocks. */

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
      const text = raw === undefined || raw === '' ? '-' : String(raw);
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
    ([key, value]) => `${indent}${key.padEnd(width)}  ${value === undefined || value === '' ? '-' : value}`,
  );
}
