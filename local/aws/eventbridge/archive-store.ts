import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonStore } from '../../state/json-store.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../state/file-modes.js';

/**
 * Event archives on disk, so they survive a restart: the definitions (bus, pattern, retention) in
 * <dir>/archives.json, and each archive's events as JSON lines in <dir>/archives/<name>.jsonl (one event per
 * line, appended as it arrives). Events older than the retention period are dropped when the archive is loaded
 * and whenever it is read; retention 0 keeps events indefinitely, as in EventBridge.
 */

export interface ArchiveDefinition {
  name: string;
  eventBusName: string;
  /** The archive's event pattern as JSON text; absent = every event on the bus. */
  eventPattern?: string;
  /** 0 = indefinitely. */
  retentionDays: number;
  description?: string;
  /** Epoch milliseconds. */
  creationTime: number;
}

export interface ArchivedEvent {
  time: string;
  [key: string]: unknown;
}

interface ArchiveStats {
  eventCount: number;
  sizeBytes: number;
}

const DAY_MS = 86_400_000;

export class ArchiveStore {
  private readonly definitions: JsonStore<Record<string, ArchiveDefinition>>;
  private readonly stats = new Map<string, ArchiveStats>();

  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(join(dir, 'archives'), { recursive: true, mode: PRIVATE_DIR_MODE });
    this.definitions = new JsonStore(join(dir, 'archives.json'), () => ({}));
    for (const name of Object.keys(this.definitions.get())) this.readEvents(name);
  }

  /** Creates the archive, or updates its pattern, retention and description, keeping its events. */
  define(definition: Omit<ArchiveDefinition, 'creationTime'>): ArchiveDefinition {
    const saved = this.definitions.update((all) => {
      const existing = all[definition.name];
      const next: ArchiveDefinition = { ...definition, creationTime: existing?.creationTime ?? this.now() };
      if (next.eventPattern === undefined) delete next.eventPattern;
      if (next.description === undefined) delete next.description;
      all[definition.name] = next;
      return next;
    });
    this.readEvents(definition.name);
    return saved;
  }

  get(name: string): ArchiveDefinition | undefined {
    return this.definitions.get()[name];
  }

  list(): ArchiveDefinition[] {
    return Object.values(this.definitions.get()).sort((a, b) => a.name.localeCompare(b.name));
  }

  statsOf(name: string): ArchiveStats {
    return this.stats.get(name) ?? { eventCount: 0, sizeBytes: 0 };
  }

  append(name: string, event: ArchivedEvent): void {
    const line = `${JSON.stringify(event)}\n`;
    appendFileSync(this.fileOf(name), line, { mode: PRIVATE_FILE_MODE });
    const stats = this.statsOf(name);
    this.stats.set(name, { eventCount: stats.eventCount + 1, sizeBytes: stats.sizeBytes + Buffer.byteLength(line) });
  }

  /** The archive's events within retention, oldest first by event time. */
  readEvents(name: string): ArchivedEvent[] {
    const definition = this.get(name);
    if (!definition) return [];
    let text = '';
    try {
      text = readFileSync(this.fileOf(name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const lines = text.split('\n').filter(Boolean);
    const cutoff = definition.retentionDays > 0 ? this.now() - definition.retentionDays * DAY_MS : -Infinity;
    const kept: string[] = [];
    const events: ArchivedEvent[] = [];
    for (const line of lines) {
      let event: ArchivedEvent;
      try {
        event = JSON.parse(line) as ArchivedEvent;
      } catch {
        continue; // a line cut short by a crash mid-append
      }
      if (Date.parse(event.time) < cutoff) continue;
      kept.push(line);
      events.push(event);
    }
    if (kept.length !== lines.length) this.rewrite(name, kept);
    this.stats.set(name, {
      eventCount: kept.length,
      sizeBytes: kept.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0),
    });
    return events.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  }

  private rewrite(name: string, lines: string[]): void {
    const file = this.fileOf(name);
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, lines.map((line) => `${line}\n`).join(''), { mode: PRIVATE_FILE_MODE });
    renameSync(temp, file);
  }

  private fileOf(name: string): string {
    return join(this.dir, 'archives', `${name}.jsonl`);
  }
}
