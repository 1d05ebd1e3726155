import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import {
  DeleteTableCommand,
  DynamoDBClient,
  paginateScan,
  ResourceNotFoundException,
  waitUntilTableNotExists,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { vi } from 'vitest';
import { ensureTables } from '../../local/aws/tables.js';
import type { TableDeclaration } from '../../shared/declarations.js';

// dynalite ships no types; it is loaded through require with the one signature used here.
const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: { createTableMs: number; deleteTableMs: number }) => Server;

/** Both services' unit tests use the same region; dynalite ignores it, the SDK needs one. */
const DYNALITE_REGION = 'eu-west-1';

export interface RunningDynalite {
  /** http://127.0.0.1:port, for a client (or AWS_ENDPOINT_URL) to point at. */
  endpoint: string;
  client: DynamoDBClient;
  close: () => Promise<void>;
}

/**
 * An in-process DynamoDB (dynalite) on a loopback ephemeral port, shared by both services' unit tests, so the
 * adapters' key, condition and update expressions are evaluated by a DynamoDB implementation rather than asserted
 * as strings or re-implemented by a fake.
 */
export async function startDynalite(): Promise<RunningDynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: DYNALITE_REGION,
    // dynalite checks that a request is signed, not by whom: placeholder credentials, no secret.
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return {
    endpoint,
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/**
 * Creates a table from its service.ts declaration the way the local runtime does (ensureTables): the declared
 * keys and every index a GSI projecting ALL, as the CDK default, waiting until it is ACTIVE.
 */
export async function createDeclaredTable(
  client: DynamoDBClient,
  tableName: string,
  table: TableDeclaration,
): Promise<void> {
  await ensureTables(client, { [tableName]: table }, { activeTimeoutMs: 10_000 });
}

/** Drops and re-creates declared tables, so each test starts from empty tables under the same names. */
export async function recreateDeclaredTables(
  client: DynamoDBClient,
  tables: Record<string, TableDeclaration>,
): Promise<void> {
  for (const [tableName, table] of Object.entries(tables)) {
    try {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      await waitUntilTableNotExists(
        { client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.1 },
        { TableName: tableName },
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    await createDeclaredTable(client, tableName, table);
  }
}

/** Every item of a (small) table, as stored (attribute values). */
export async function scanTable(client: DynamoDBClient, tableName: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  for await (const page of paginateScan({ client }, { TableName: tableName, ConsistentRead: true }))
    items.push(...(page.Items ?? []));
  return items;
}

type Command = abstract new (...args: never[]) => { input: object };
/** Any SDK client: its send takes one of its own commands (so `never` here) and options. */
type Sender = { send: (command: never, ...rest: never[]) => Promise<unknown> };

/**
 * Records the commands every instance of an SDK client class sends, passing each on to the real client (e.g.
 * dynalite), and lets a test make chosen commands fail as DynamoDB would, or answer them itself (e.g. to stage a
 * lagging index). Calls from `ownClients` (the test's own
 * reads and setup) are neither recorded nor failed. Undone by vi.restoreAllMocks().
 */
export function recordCommands(clientClass: { prototype: Sender }, ownClients: readonly object[] = []) {
  const realSend = clientClass.prototype.send as (this: object, ...args: unknown[]) => Promise<unknown>;
  const failures: { type: Command; error: Error; once: boolean; when: (input: Record<string, unknown>) => boolean }[] =
    [];
  const answers: { type: Command; answer: (input: Record<string, unknown>) => object | undefined }[] = [];
  const hooks: { type: Command; before: (input: Record<string, unknown>) => unknown }[] = [];
  const rewrites: { type: Command; rewrite: (input: Record<string, unknown>) => Record<string, unknown> }[] = [];
  const sent: { input: Record<string, unknown> }[] = [];
  vi.spyOn(clientClass.prototype, 'send').mockImplementation(function (
    this: object,
    command: unknown,
    ...rest: unknown[]
  ) {
    if (ownClients.includes(this)) return realSend.call(this, command, ...rest);
    const sentCommand = command as { input: Record<string, unknown> };
    sent.push(sentCommand);
    const failure = failures.findIndex((f) => command instanceof f.type && f.when(sentCommand.input));
    if (failure >= 0) {
      const { error, once } = failures[failure]!;
      if (once) failures.splice(failure, 1);
      return Promise.reject(error);
    }
    for (const { type, answer } of answers) {
      const output = command instanceof type ? answer(sentCommand.input) : undefined;
      if (output !== undefined) return Promise.resolve(output);
    }
    const before = hooks.filter(({ type }) => command instanceof type);
    const rewrite = rewrites.findLast(({ type }) => command instanceof type); // the latest one wins
    // The rewritten command goes out; the one recorded is what the code under test sent.
    const outgoing = rewrite
      ? new (command as { constructor: new (input: object) => object }).constructor(rewrite.rewrite(sentCommand.input))
      : command;
    return (async () => {
      for (const hook of before) await hook.before(sentCommand.input);
      return realSend.call(this, outgoing, ...rest);
    })();
  });
  return {
    /** The commands sent, in order, shaped like aws-sdk-client-mock's calls (call.args[0].input). */
    calls: () => sent.map((command) => ({ args: [command] as const })),
    commandCalls: <T extends Command>(type: T) =>
      sent
        .filter((command) => command instanceof type)
        .map((command) => ({ args: [command as InstanceType<T>] as const })),
    /** Makes matching commands fail with `error` (every time, or only the next one). */
    fail: <T extends Command>(
      type: T,
      error: Error,
      options: { once?: boolean; when?: (input: InstanceType<T>['input']) => boolean } = {},
    ) => {
      const when = (options.when ?? (() => true)) as (input: Record<string, unknown>) => boolean;
      failures.push({ type, error, once: options.once ?? false, when });
    },
    /** Runs `before` ahead of each matching command (e.g. another writer racing the code under test). */
    before: <T extends Command>(type: T, before: (input: InstanceType<T>['input']) => unknown) => {
      hooks.push({ type, before: before as (input: Record<string, unknown>) => unknown });
    },
    /**
     * Sends matching commands with `rewrite`'s input instead (e.g. a smaller Limit, as DynamoDB returns fewer items
     * than Limit when a page reaches 1 MB); the command recorded stays the one sent by the code under test.
     */
    rewrite: <T extends Command>(type: T, rewrite: (input: InstanceType<T>['input']) => InstanceType<T>['input']) => {
      rewrites.push({ type, rewrite: rewrite as (input: Record<string, unknown>) => Record<string, unknown> });
    },
    /** Answers matching commands with `answer`'s output instead of sending them (undefined: sent as usual). */
    answer: <T extends Command>(type: T, answer: (input: InstanceType<T>['input']) => object | undefined) => {
      answers.push({ type, answer: answer as (input: Record<string, unknown>) => object | undefined });
    },
  };
}
