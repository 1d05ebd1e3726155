import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './state/file-modes.js';
import { readAuditEntries, type AuditEntry, type TimedAuditEntry } from '../client/audit.js';

/**
 * The local runtime's audit trail, appended under .local/audit.jsonl (the entry types and the reader are the client
 * module's: operators read what the runtime writes here). Tests assert against it.
 */
export type { AuditEntry, TimedAuditEntry };

export class AuditLog {
  /** Kept open: an order appends several entries, and opening the file for each cost more than the write. */
  private fd: number | undefined;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
  }

  append(entry: AuditEntry): void {
    this.fd ??= openSync(this.path, 'a', PRIVATE_FILE_MODE);
    writeSync(this.fd, `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  read(): TimedAuditEntry[] {
    return readAuditEntries(this.path);
  }
}
