import type { ResourceLocator } from '../client/locator.js';
import { SECTIONS, type SectionName } from './sections.js';
import type { ActionView, Snapshot } from './views.js';

/**
 * The page's data, kept fresh while someone watches: every `intervalMs` (1 s) the sections whose reads are stale
 * are read again through the locator, and a new snapshot is pushed to every subscriber when it differs from the
 * last one. Nobody watching, nothing is read. Actions (redrive, discard) run exclusively: no poll touches the
 * dead-letter queue while one runs, since listing receives its messages and would hide them from the action.
 */

type Listener = (snapshot: string) => void;

const READ_ONLY_ON_AWS = [
  'Orders, partners, alarms and refusals are read-only here (change them with b2b or a deploy).',
  'Redrive and discard act on the SQS dead-letter queue and replay from the bus archive: those are the writes.',
];

export class LiveSnapshots {
  private readonly listeners = new Set<Listener>();
  private readonly cache = new Map<SectionName, { at: number; value: unknown; error?: string }>();
  private readonly actionLog: ActionView[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private exclusive: Promise<unknown> | undefined;
  private last = '';

  constructor(
    private readonly locator: ResourceLocator,
    private readonly options: { intervalMs: number; now?: () => Date },
  ) {}

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** Calls `listener` with the current snapshot at once, then with each changed one; returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (this.last) listener(this.last);
    this.start();
    void this.poll();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** The current snapshot, read now (for GET /api/snapshot). */
  async snapshot(): Promise<Snapshot> {
    await this.poll();
    return JSON.parse(this.last) as Snapshot;
  }

  get actions(): readonly ActionView[] {
    return this.actionLog;
  }

  get busy(): boolean {
    return this.exclusive !== undefined;
  }

  /** Runs an action alone (after the poll in progress); its progress and outcome appear in the snapshots. */
  runAction(kind: ActionView['kind'], work: (progress: (line: string) => void) => Promise<string>): ActionView {
    const view: ActionView = {
      id: this.actionLog.length + 1,
      kind,
      state: 'running',
      startedAt: this.now().toISOString(),
      summary: `${kind} running`,
      progress: [],
    };
    this.actionLog.unshift(view);
    this.actionLog.splice(10);
    const run = (async () => {
      await this.polling;
      try {
        view.summary = await work((line) => view.progress.push(line.trim()));
        view.state = 'done';
      } catch (error) {
        view.state = 'failed';
        view.summary = `${kind} failed: ${(error as Error).message}`;
      } finally {
        this.cache.delete('deadLetters');
        this.cache.delete('orders');
        this.exclusive = undefined;
        void this.poll();
      }
    })();
    this.exclusive = run;
    return view;
  }

  private start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.options.intervalMs);
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.listeners.clear();
  }

  /** One poll at a time; a call during one waits for it. */
  private poll(): Promise<void> {
    this.polling ??= this.readStale().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async readStale(): Promise<void> {
    const now = this.now();
    const kind = this.locator.kind;
    await Promise.all(
      (Object.keys(SECTIONS) as SectionName[]).map(async (name) => {
        const cached = this.cache.get(name);
        if (cached && now.getTime() - cached.at < SECTIONS[name].maxAgeMs[kind]) return;
        if (name === 'deadLetters' && this.exclusive) return;
        try {
          const value = await (SECTIONS[name].read as (l: ResourceLocator, n: Date) => Promise<unknown>)(
            this.locator,
            now,
          );
          this.cache.set(name, { at: now.getTime(), value });
        } catch (error) {
          this.cache.set(name, { at: now.getTime(), value: cached?.value, error: (error as Error).message });
        }
      }),
    );
    this.publish(now);
  }

  private publish(now: Date): void {
    const sections: Record<string, unknown> = {};
    const errors: Record<string, string> = {};
    for (const [name, entry] of this.cache) {
      if (entry.value !== undefined) sections[name] = entry.value;
      if (entry.error) errors[name] = entry.error;
    }
    const { kind, stage, label } = this.locator;
    const body = { target: { kind, stage, label }, ...sections, errors, actions: this.actionLog };
    const readOnly = kind === 'aws' ? READ_ONLY_ON_AWS : [];
    // Compared without the time it was made, so an unchanged platform pushes nothing.
    const key = JSON.stringify(body);
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.last = JSON.stringify({ ...body, readOnly, generatedAt: now.toISOString() });
    for (const listener of this.listeners) listener(this.last);
  }

  private lastKey = '';
}
