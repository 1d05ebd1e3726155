import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './state/file-modes.js';
import { readAuditEntries, type AuditEntry, type TimedAuditEntry } from '../client/audit.js';

/**
 * The local runtime's audit trail, appended under .local/audit.jsonl (the entry types and the reader are the client
 * module's: operators read what the runtime writes here). Tests assert against it.
 */
export type { AuditEntry, TimedAuditEntry };

export class AuditLog {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
  }

  append(entry: AuditEntry): void {
    appendFileSync(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`, {
      mode: PRIVATE_FILE_MODE,
    });
  }

  read(): TimedAuditEntry[] {
    return readAuditEntries(this.path);
  }
}
