import { partnerResourceNames, stackNamedResources } from '../shared/names.js';

/**
 * The names the CLI looks resources up by: the stage's names as both stacks and the local runtime give them
 * (shared/names.ts), and the names of what the CLI itself creates per partner (records, secrets, API keys).
 */
export function stageNames(stage: string) {
  return { ...stackNamedResources(stage), ...partnerResourceNames(stage) };
}

export type StageNames = ReturnType<typeof stageNames>;
