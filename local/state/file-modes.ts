import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The state directory holds secrets (client secrets, API keys, the at-rest key, the AWS access key, signing keys),
 * so it is private to the user: the directory and every directory under it 0700, every file 0600. Each writer in
 * local/ passes these modes; the process umask (0077 while the runtime runs) covers what libraries create
 * (dynalite's LevelDB files, esbuild's bundles); and tightenStateDir() brings a state directory made by an older
 * version (0755/0644) into line at start.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Files and directories the process creates from now on are private (no-op where umask cannot be set). */
export function restrictUmask(): void {
  try {
    process.umask(0o077);
  } catch {
    // Worker threads cannot change the process umask; the explicit modes of local/'s writers still apply.
  }
}

/** Creates the state directory if needed and makes it and everything in it private. Symbolic links are left alone. */
export function tightenStateDir(stateDir: string): void {
  mkdirSync(stateDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  tighten(stateDir);
}

function tighten(path: string): void {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat || stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    if ((stat.mode & 0o777) !== PRIVATE_DIR_MODE) chmodSync(path, PRIVATE_DIR_MODE);
    for (const name of readdirSync(path)) tighten(join(path, name));
  } else if ((stat.mode & 0o777) !== PRIVATE_FILE_MODE) {
    chmodSync(path, PRIVATE_FILE_MODE);
  }
}
