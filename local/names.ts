import { platformNames, type PlatformNames } from '../shared/names.js';

/**
 * The local runtime's resource names: shared/names.ts platformNames, the same function of the stage the stacks
 * name their resources with (and readable names for what CloudFormation names on AWS).
 */
export function localNames(stage: string): LocalNames {
  return platformNames(stage);
}

export type LocalNames = PlatformNames;
