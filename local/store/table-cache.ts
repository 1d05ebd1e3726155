/**
 * dynalite reads the table definition from LevelDB (and JSON-decodes it) on every request (db/index.js getTable,
 * through `store.tableDb.get`). The definition changes only when dynalite itself writes it (CreateTable,
 * UpdateTable, DeleteTable and their status transitions all go through `tableDb.put`/`del`), so the store keeps the
 * decoded definitions in memory and forgets one whenever its key is written. A read that started before a write
 * does not fill the cache (a per-key generation counter), so a stale definition is never kept. Each read gets its
 * own copy: dynalite's actions modify the table object they are given.
 */

type Callback = (error: Error | null | undefined, value?: unknown) => void;

interface TableDb {
  get(key: string, callback: Callback): void;
  put(key: string, value: unknown, ...rest: unknown[]): unknown;
  del(key: string, ...rest: unknown[]): unknown;
}

interface DynaliteDbModule {
  create(options: unknown): { tableDb: TableDb };
}

const PATCHED = Symbol.for('b2b.dynalite.table-cache');

/** Wraps dynalite's db.create (the module dynalite's server calls) so every store it creates memoizes its tables. */
export function memoizeTableDefinitions(dbModule: DynaliteDbModule): void {
  const patched = dbModule as DynaliteDbModule & { [PATCHED]?: true };
  if (patched[PATCHED]) return;
  patched[PATCHED] = true;
  const create = dbModule.create.bind(dbModule);
  dbModule.create = (options) => {
    const store = create(options);
    cacheTableDb(store.tableDb);
    return store;
  };
}

export function cacheTableDb(tableDb: TableDb): void {
  const cache = new Map<string, unknown>();
  const generations = new Map<string, number>();
  const bump = (key: string) => {
    cache.delete(key);
    generations.set(key, (generations.get(key) ?? 0) + 1);
  };
  const get = tableDb.get.bind(tableDb);
  const put = tableDb.put.bind(tableDb);
  const del = tableDb.del.bind(tableDb);
  tableDb.get = (key, callback) => {
    if (cache.has(key)) {
      const copy = structuredClone(cache.get(key));
      process.nextTick(() => callback(null, copy));
      return;
    }
    const generation = generations.get(key) ?? 0;
    get(key, (error, value) => {
      if (!error && value && typeof value === 'object' && (generations.get(key) ?? 0) === generation) {
        cache.set(key, structuredClone(value));
      }
      callback(error, value);
    });
  };
  // Forgotten when the write starts and again when it has landed: a read in between sees a changed generation.
  tableDb.put = (key, value, ...rest) => {
    bump(key);
    return put(key, value, ...afterWrite(rest, () => bump(key)));
  };
  tableDb.del = (key, ...rest) => {
    bump(key);
    return del(key, ...afterWrite(rest, () => bump(key)));
  };
}

/** The write's arguments with its callback (dynalite always passes one) wrapped to run `landed` first. */
function afterWrite(rest: unknown[], landed: () => void): unknown[] {
  const last = rest.at(-1);
  if (typeof last !== 'function') return rest;
  return [
    ...rest.slice(0, -1),
    (...results: unknown[]) => {
      landed();
      (last as (...args: unknown[]) => void)(...results);
    },
  ];
}
