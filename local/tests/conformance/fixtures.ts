import { readFileSync, readdirSync } from 'node:fs';
import { z } from 'zod';

/**
 * Loads the conformance fixtures of one behaviour (a folder of JSON files, one per family) and checks their shape,
 * so that a mistyped case fails loudly instead of passing vacuously.
 */
export function loadFamilies<T extends z.ZodType>(folder: string, caseSchema: T): Array<Family<z.infer<T>>> {
  const directory = new URL(`./fixtures/${folder}/`, import.meta.url);
  const familySchema = z.object({
    behaviour: z.string(),
    family: z.string(),
    description: z.string(),
    cases: z.array(caseSchema).min(1),
  });
  return readdirSync(directory)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => familySchema.parse(JSON.parse(readFileSync(new URL(name, directory), 'utf8'))));
}

export interface Family<Case> {
  behaviour: string;
  family: string;
  description: string;
  cases: Case[];
}

/** Prints "behaviour: family N, family M ... (total T)" so `npm test` output shows the corpus sizes. */
export function printCounts(behaviour: string, counts: Map<string, { passed: number; total: number }>): void {
  const parts = [...counts].map(([family, { passed, total }]) => `${family} ${passed}/${total}`);
  const passed = [...counts.values()].reduce((sum, c) => sum + c.passed, 0);
  const total = [...counts.values()].reduce((sum, c) => sum + c.total, 0);
  console.log(`conformance ${behaviour}: ${passed}/${total} cases agree with AWS (${parts.join(', ')})`);
}
