import { vi } from 'vitest';

/** One CloudWatch Embedded Metric Format line, as Powertools Metrics writes it to stdout. */
interface EmfLine {
  namespace: string;
  /** The dimension names and their values on this line (e.g. { service: 'car-orders' }). */
  dimensions: Record<string, string>;
  /** Each metric's value; a metric counted twice in one invocation is an array in EMF, summed here. */
  values: Record<string, number>;
}

interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: { Name: string; Unit: string }[];
}

/**
 * The EMF lines among JSON log entries, checked the way CloudWatch reads them: an `_aws` directive whose metric
 * names each have a numeric (or numeric array) value and whose dimension names each have a string value.
 */
export function emfLines(entries: Record<string, unknown>[]): EmfLine[] {
  return entries
    .filter((entry) => typeof entry._aws === 'object' && entry._aws !== null)
    .map((entry) => {
      const [directive] = (entry._aws as { CloudWatchMetrics: EmfDirective[] }).CloudWatchMetrics;
      if (directive === undefined) throw new Error(`EMF line without a metric directive: ${JSON.stringify(entry)}`);
      const values: Record<string, number> = {};
      for (const { Name } of directive.Metrics) {
        const raw = entry[Name];
        const numbers = Array.isArray(raw) ? raw : [raw];
        if (!numbers.every((n) => typeof n === 'number')) throw new Error(`EMF metric ${Name} has no numeric value`);
        values[Name] = (numbers as number[]).reduce((sum, n) => sum + n, 0);
      }
      const dimensions: Record<string, string> = {};
      for (const name of directive.Dimensions.flat()) {
        if (typeof entry[name] !== 'string') throw new Error(`EMF dimension ${name} has no value`);
        dimensions[name] = entry[name];
      }
      return { namespace: directive.Namespace, dimensions, values };
    });
}

/** The metrics of all EMF lines added up by name: what CloudWatch would count over these invocations. */
export function metricTotals(entries: Record<string, unknown>[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const line of emfLines(entries)) {
    for (const [name, value] of Object.entries(line.values)) totals[name] = (totals[name] ?? 0) + value;
  }
  return totals;
}

/** JSON lines of a text stream (non-JSON lines skipped). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * Captures what is written to stdout (where Powertools Metrics writes EMF and Logger writes its lines), keeping
 * the test output quiet. Undone by vi.restoreAllMocks().
 */
export function captureStdout(): { text: () => string; entries: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  });
  const text = () => chunks.join('');
  return { text, entries: () => jsonLines(text()) };
}
