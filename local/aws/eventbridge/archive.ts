import { AwsServiceError } from '../protocol.js';
import { ArchiveStore, type ArchivedEvent } from './archive-store.js';
import { EventPattern } from './event-pattern.js';
import {
  DEFAULT_EVENT_BUS,
  archiveArn,
  eventBusArn,
  type ArchiveInfo,
  type ArchiveOptions,
  type EventBridgeEvent,
} from './model.js';
import { compilePattern, type EventBuses } from './rules.js';

/** Archives: which events of a bus each keeps (its pattern) and their statistics, over the on-disk ArchiveStore. */
export class Archives {
  private readonly store: ArchiveStore;
  private readonly patterns = new Map<string, EventPattern | undefined>();

  constructor(
    dir: string,
    private readonly buses: EventBuses,
  ) {
    this.store = new ArchiveStore(dir);
    for (const archive of this.store.list()) {
      this.patterns.set(archive.name, archive.eventPattern ? EventPattern.compile(archive.eventPattern) : undefined);
    }
  }

  /** Creates an archive on a bus, or updates an existing one (its events are kept). */
  create(options: ArchiveOptions): ArchiveInfo {
    const busName = options.eventBusName ?? DEFAULT_EVENT_BUS;
    this.buses.requireBus(busName);
    if (!/^[.\-_A-Za-z0-9]{1,48}$/.test(options.name)) {
      throw new AwsServiceError('ValidationException', `Archive name ${options.name} is not valid.`);
    }
    const existing = this.store.get(options.name);
    if (existing && existing.eventBusName !== busName) {
      throw new AwsServiceError('ResourceAlreadyExistsException', `Archive ${options.name} already exists.`);
    }
    const retentionDays = options.retentionDays ?? 0;
    if (!Number.isInteger(retentionDays) || retentionDays < 0) {
      throw new AwsServiceError('ValidationException', 'RetentionDays must be a non-negative integer.');
    }
    const pattern = options.eventPattern === undefined ? undefined : compilePattern(options.eventPattern);
    this.store.define({
      name: options.name,
      eventBusName: busName,
      retentionDays,
      ...(pattern ? { eventPattern: pattern.source } : {}),
      ...(options.description ? { description: options.description } : {}),
    });
    this.patterns.set(options.name, pattern);
    return this.describe(options.name);
  }

  /** Appends a (non-replayed) event of a bus to every archive of that bus whose pattern it matches. */
  record(busName: string, event: EventBridgeEvent): void {
    for (const archive of this.store.list()) {
      if (archive.eventBusName !== busName) continue;
      const pattern = this.patterns.get(archive.name);
      if (!pattern || pattern.matches(event)) this.store.append(archive.name, event as unknown as ArchivedEvent);
    }
  }

  /** The archive's definition, or undefined. */
  get(name: string) {
    return this.store.get(name);
  }

  list(): ArchiveInfo[] {
    return this.store.list().map((archive) => this.describe(archive.name));
  }

  describe(name: string): ArchiveInfo {
    const archive = this.store.get(name);
    if (!archive) throw new AwsServiceError('ResourceNotFoundException', `Archive ${name} does not exist.`);
    const stats = this.store.statsOf(name);
    return {
      ...archive,
      arn: archiveArn(name),
      eventSourceArn: eventBusArn(archive.eventBusName),
      state: 'ENABLED',
      eventCount: stats.eventCount,
      sizeBytes: stats.sizeBytes,
    };
  }

  /** The archive's events within retention (for operators and tests). */
  events(name: string): EventBridgeEvent[] {
    this.describe(name);
    return this.store.readEvents(name) as unknown as EventBridgeEvent[];
  }
}
