import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './file-modes.js';

/**
 * A small JSON document persisted under .local/: read once at start, written atomically (temp file + rename) on
 * every change, so state survives a restart and a crash never leaves half a file. Private: 0600 in 0700 directories.
 */
export class JsonStore<T> {
  private value: T;

  constructor(
    readonly path: string,
    initial: () => T,
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
    try {
      this.value = JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.value = initial();
      this.flush();
    }
  }

  get(): T {
    return this.value;
  }

  /** Applies a change and persists it before returning. */
  update<R>(change: (value: T) => R): R {
    const result = change(this.value);
    this.flush();
    return result;
  }

  private flush(): void {
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(this.value, null, 2), { mode: PRIVATE_FILE_MODE });
    renameSync(temp, this.path);
  }
}
