import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Clients } from '../client/aws-clients.js';
import { LocalLocator } from '../client/local-locator.js';
import type { LocalRuntimeInfo, ResourceLocator } from '../client/locator.js';
import { StackLocator } from '../client/stack-locator.js';
import { stageNames, type StageNames } from './names.js';

/**
 * Where the CLI acts: the local runtime (default; described by <state-dir>/runtime.json) or a deployed stage
 * (--stage NAME). Both are reached with the same real AWS SDK v3 clients and located through the client module's
 * ResourceLocator (LocalLocator / StackLocator), so commands never ask which one they run against to find a
 * resource; they ask only for what exists on one side alone (the local audit log, a stage's CloudWatch Logs).
 */

export type {
  ArchiveHandle,
  Company,
  EventBusHandle,
  IpSetHandle,
  LocalRuntimeInfo as LocalTargetInfo,
  RestApiHandle,
  RuleHandle,
  RuleTargetHandle,
  UserPoolHandle,
} from '../client/locator.js';
export type { Clients };

export interface Target {
  kind: 'local' | 'aws';
  stage: string;
  /** For messages: "local runtime (.local, pid 1234)" or "stage dev". */
  label: string;
  names: StageNames;
  clients: Clients;
  /** Present for the local runtime. */
  local?: LocalRuntimeInfo;
  resources: ResourceLocator;
  close(): void;
}

export interface TargetOptions {
  stage?: string;
  stateDir?: string;
  region?: string;
  /** Base for a relative state directory (default process.cwd()). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export async function resolveTarget(options: TargetOptions): Promise<Target> {
  if (options.stage !== undefined) return targetOf(new StackLocator(options.stage, options.region));
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.stateDir ?? env.B2B_STATE_DIR;
  return targetOf(LocalLocator.open(explicit !== undefined ? resolve(cwd, explicit) : findStateDir(cwd)));
}

/**
 * The nearest `.local` holding a runtime.json, from `cwd` up to the filesystem root (so `b2b` works from any
 * subdirectory of the repository); `<cwd>/.local` when there is none, whose absence the locator reports.
 */
export function findStateDir(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.local', 'runtime.json'))) return join(dir, '.local');
    if (dirname(dir) === dir) return resolve(cwd, '.local');
  }
}

export function targetOf(locator: ResourceLocator): Target {
  return {
    kind: locator.kind,
    stage: locator.stage,
    label: locator.label,
    names: stageNames(locator.stage),
    clients: locator.clients,
    ...(locator.local ? { local: locator.local } : {}),
    resources: locator,
    close: () => locator.close(),
  };
}
