import { printable } from '../../client/printable.js';
import { closeSync, mkdirSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What `npm start` prints and what it keeps. Every line (the functions' JSON logs, scheduler ticks, runtime notes)
 * goes to `<stateDir>/logs/runtime.log`; the terminal gets only what an operator must act on (errors, failed
 * deliveries, failed runs) unless `--verbose` or a lower `--log-level` asks for more.
 */

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<string, number> = {
  TRACE: 0,
  DEBUG: 0,
  INFO: 1,
  WARN: 2,
  WARNING: 2,
  ERROR: 3,
  CRITICAL: 3,
  SILENT: 4,
};

/** The level of a function's log line: Powertools writes JSON with `level`; anything else on stderr is an error. */
export function levelOf(line: string, stream: 'stdout' | 'stderr'): number {
  if (line.startsWith('{')) {
    try {
      const level = (JSON.parse(line) as { level?: unknown }).level;
      if (typeof level === 'string' && level.toUpperCase() in RANK) return RANK[level.toUpperCase()]!;
    } catch {
      // not JSON after all: fall through
    }
  }
  return stream === 'stderr' ? RANK.ERROR! : RANK.INFO!;
}

export interface ConsoleLogOptions {
  stateDir: string;
  /** Lowest level echoed to the terminal. */
  level: LogLevel;
  /** Echo scheduler ticks and runtime notes too. */
  verbose: boolean;
  out?: (line: string) => void;
}

export class ConsoleLog {
  readonly path: string;
  private readonly fd: number;
  private readonly threshold: number;
  private readonly out: (line: string) => void;

  constructor(private readonly options: ConsoleLogOptions) {
    const dir = join(options.stateDir, 'logs');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.path = join(dir, 'runtime.log');
    this.fd = openSync(this.path, 'a', 0o600);
    this.threshold = RANK[options.level]!;
    const write = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
    // Lines carry text from requests and responses: never let it drive the operator's terminal.
    this.out = (line) => write(printable(line));
  }

  /** The functions' output (LambdaLogSink). */
  readonly functionLine = (line: string, stream: 'stdout' | 'stderr'): void => {
    this.keep(line);
    if (levelOf(line, stream) >= this.threshold) this.out(line);
  };

  /** The runtime's own notes (scheduler ticks, close messages): terminal only when verbose or a failure. */
  readonly runtimeLine = (line: string): void => {
    this.keep(line);
    if (this.options.verbose || /\b(failed|error)\b/i.test(line)) this.out(line);
  };

  /** An operator-facing line (ready, alarms, failed deliveries): always on the terminal. */
  notice(line: string): void {
    this.keep(line);
    this.out(line);
  }

  close(): void {
    closeSync(this.fd);
  }

  private keep(line: string): void {
    writeSync(this.fd, `${line}\n`);
  }
}

/** One escaping of terminal-unsafe text for the runtime's log and the CLI (client/printable.ts). */
export { printable };

type AuditLine = { kind?: string; outcome?: string; [key: string]: unknown };

/** The audit facts an operator must see as they happen; everything else stays in audit.jsonl. */
export function noticeOf(entry: AuditLine): string | undefined {
  if (entry.kind === 'delivery' && (entry.outcome === 'dead-lettered' || entry.outcome === 'retrying')) {
    const status = entry.status === undefined ? '' : ` (${String(entry.status)})`;
    return `delivery ${entry.outcome}: rule ${String(entry.rule)} event ${String(entry.eventId)} attempt ${String(entry.attempt)}${status}: ${String(entry.error ?? '')}`;
  }
  if (entry.kind === 'schedule' && entry.outcome === 'error') {
    return `schedule failed: ${String(entry.company)}/${String(entry.schedule)}: ${String(entry.error ?? '')}`;
  }
  if (entry.kind === 'alarm') {
    return `alarm ${String(entry.state)}: ${String(entry.company)}/${String(entry.alarm)} (was ${String(entry.previousState)}): ${String(entry.reason ?? '')}`;
  }
  if (entry.kind === 'invocation' && entry.outcome !== 'ok') {
    return `function ${entry.outcome}: ${String(entry.company)}/${String(entry.function)}: ${String(entry.error ?? '')}`;
  }
  // Host/Origin/signature refusals: someone other than the user's own tools tried a listener.
  if (entry.kind === 'refused' && entry.reason !== 'timeout' && entry.reason !== 'connection-cap') {
    const origin = entry.origin === undefined ? '' : ` origin ${String(entry.origin)}`;
    const error = entry.error === undefined ? '' : ` ${String(entry.error)}`;
    // Host, Origin and path are the client's to write: escaped, so they cannot drive the operator's terminal.
    return printable(
      `refused ${String(entry.listener)} ${String(entry.method ?? '')} ${String(entry.path ?? '')} from ${String(entry.sourceIp)}: ${String(entry.reason)}${error} (host ${String(entry.host ?? '')}${origin})`,
    );
  }
  return undefined;
}

/**
 * Follows the runtime's audit log from its current end and hands each new entry's notice to `emit`. Polling a file
 * keeps the runtime's pieces unaware of the terminal.
 */
export function followAudit(path: string, emit: (line: string) => void, intervalMs = 500): () => void {
  let offset = sizeOf(path);
  let partial = '';
  const poll = () => {
    const size = sizeOf(path);
    if (size < offset) offset = 0;
    if (size === offset) return;
    const buffer = Buffer.alloc(size - offset);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, offset);
    } finally {
      closeSync(fd);
    }
    offset = size;
    const lines = (partial + buffer.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const notice = line ? safeNotice(line) : undefined;
      if (notice) emit(notice);
    }
  };
  const timer = setInterval(poll, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    poll();
  };
}

function safeNotice(line: string): string | undefined {
  try {
    return noticeOf(JSON.parse(line) as AuditLine);
  } catch {
    return undefined;
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
