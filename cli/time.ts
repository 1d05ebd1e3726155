import { UsageError } from './command.js';

/**
 * Times and durations as operators type them: an ISO 8601 instant (2026-05-01T10:00:00Z, or a date), `now`, or a
 * time relative to now (`-2h`, `-30m`, `-7d`); durations such as `90s`, `15m`, `24h`, `7d`. Output is always ISO 8601
 * UTC, so a run reads the same whatever the machine's time zone.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

export function parseDuration(text: string, option: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new UsageError(`--${option} must be a duration such as 30s, 15m, 24h or 7d, not "${text}"`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** An instant: ISO 8601, `now`, or `-<duration>` (before now). */
export function parseInstant(text: string, option: string, now: Date): Date {
  const value = text.trim();
  if (value === 'now') return new Date(now.getTime());
  if (value.startsWith('-')) return new Date(now.getTime() - parseDuration(value.slice(1), option));
  // Date-only and date-time forms; a time without a zone is taken as UTC, never as the machine's local time.
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(value)
    ? `${value}${value.length > 10 ? 'Z' : ''}`
    : value;
  if (!/^\d{4}-\d{2}-\d{2}/.test(iso)) {
    throw new UsageError(`--${option} must be an ISO 8601 time (2026-05-01T10:00:00Z), "now" or "-2h", not "${text}"`);
  }
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new UsageError(`--${option} is not a valid time: "${text}"`);
  return new Date(ms);
}

export function iso(value: Date | number): string {
  return new Date(value).toISOString();
}

/** "in 59 min", "3 h 2 min ago": how far an instant is from now, for humans. */
export function relative(target: Date | number, now: Date): string {
  const delta = new Date(target).getTime() - now.getTime();
  const text = humanDuration(Math.abs(delta));
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

export function humanDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min${seconds % 60 ? ` ${seconds % 60} s` : ''}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
