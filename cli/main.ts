import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  commandHelp,
  GLOBAL_OPTIONS,
  OperatorError,
  parseCommandArgs,
  UsageError,
  type CommandContext,
  type CommandSpec,
} from './command.js';
import { alarmsCommand } from './commands/alarms.js';
import { auditCommand } from './commands/audit.js';
import { capacityCommand } from './commands/capacity.js';
import { consoleCommand } from './commands/console.js';
import { dlqDiscardCommand, dlqListCommand, dlqRedriveCommand } from './commands/dlq.js';
import { keysListCommand, keysRotateCommand } from './commands/keys.js';
import { lambdasCommand } from './commands/lambdas.js';
import {
  ordersFailedCommand,
  ordersGetCommand,
  ordersListCommand,
  ordersRetryCommand,
  ordersTraceCommand,
} from './commands/orders.js';
import {
  partnersListCommand,
  partnersOnboardCommand,
  partnersRevokeCommand,
  partnersRotateSecretCommand,
} from './commands/partners.js';
import { partnersShowCommand, partnersUpdateCommand } from './commands/partners-update.js';
import { replayCommand } from './commands/replay.js';
import {
  rotateCallbackClientCommand,
  rotateCallbackConnectionCommand,
  rotateSupplierApiKeyCommand,
} from './commands/rotate.js';
import { smokeCommand } from './commands/smoke.js';
import { tokenInspectCommand } from './commands/token.js';
import { printable, printableJson } from './output.js';
import { resolveTarget, type Target } from './target.js';

/**
 * `b2b`: the operator CLI. One command per operator task, the same against the local runtime (default) and a
 * deployed stage (--stage NAME). `runCli` is the whole program with its I/O passed in, so tests run it in-process.
 */

export const COMMANDS: CommandSpec[] = [
  replayCommand,
  dlqListCommand,
  dlqRedriveCommand,
  dlqDiscardCommand,
  ordersListCommand,
  ordersGetCommand,
  ordersTraceCommand,
  ordersFailedCommand,
  ordersRetryCommand,
  partnersOnboardCommand,
  partnersRotateSecretCommand,
  partnersRevokeCommand,
  partnersListCommand,
  partnersShowCommand,
  partnersUpdateCommand,
  rotateCallbackClientCommand,
  rotateCallbackConnectionCommand,
  rotateSupplierApiKeyCommand,
  keysRotateCommand,
  keysListCommand,
  tokenInspectCommand,
  auditCommand,
  smokeCommand,
  alarmsCommand,
  capacityCommand,
  consoleCommand,
  lambdasCommand,
];

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
  /** A terminal to ask questions on (stdin and stderr are TTYs); prompt reads one answer line. */
  prompt?: (question: string) => Promise<string>;
  /** Resolves when a following command (--follow) must stop: SIGINT for the process, a test's own for tests. */
  stop?: Promise<void>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  now?: () => Date;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  ...(process.stdin.isTTY && process.stderr.isTTY ? { prompt: askOnTerminal } : {}),
  get stop() {
    return new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  },
};

async function askOnTerminal(question: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await terminal.question(question);
  } finally {
    terminal.close();
  }
}

function confirmer(io: CliIo): CommandContext['confirm'] {
  return async (question, refusal) => {
    if (!io.prompt) throw new UsageError(`no terminal to confirm on (${question}): ${refusal}`);
    const answer = await io.prompt(`${printable(question)} [y/N] `);
    return /^\s*y(es)?\s*$/i.test(answer);
  };
}

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.path.join(' ').length));
  return [
    'Usage: b2b <command> [options]',
    '',
    'Operate the B2B order platform: the local runtime by default (reads <state-dir>/runtime.json), or a deployed',
    'stage with --stage NAME (AWS credentials from the default chain). Human output by default, --json for scripts.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Target and output (every command):',
    ...Object.entries(GLOBAL_OPTIONS).map(
      ([name, o]) =>
        `  ${`${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`.padEnd(22)} ${o.description}`,
    ),
    '',
    'Run "b2b <command> --help" for a command\'s options and examples; "b2b --version" prints the version.',
  ].join('\n');
}

function groupHelp(group: string): string {
  const members = COMMANDS.filter((c) => c.path[0] === group);
  return [
    `Usage: b2b ${group} <${members.map((c) => c.path[1]).join('|')}> [options]`,
    '',
    ...members.map((c) => `  ${c.path.join(' ').padEnd(24)} ${c.summary}`),
    '',
    `Run "b2b ${group} <command> --help" for details.`,
  ].join('\n');
}

type Found = { spec: CommandSpec; rest: string[] } | { help: string } | { error: string; usage?: string };

/**
 * `b2b --state-dir DIR smoke` reads as `b2b smoke --state-dir DIR`: the target and output options may come before
 * the command too (help and version stay where they are).
 */
function globalOptionsAfterCommand(argv: string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const [flag, inlineValue] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const option = flag.startsWith('--') && flag !== '--help' ? GLOBAL_OPTIONS[flag.slice(2)] : undefined;
    if (!option) break;
    leading.push(argv[i]!);
    if (option.type === 'string' && inlineValue === undefined && i + 1 < argv.length) leading.push(argv[++i]!);
  }
  if (leading.length === 0 || i >= argv.length) return argv;
  const rest = argv.slice(i);
  const commandLength = COMMANDS.some((c) => c.path.length === 1 && c.path[0] === rest[0]) ? 1 : 2;
  return [...rest.slice(0, commandLength), ...leading, ...rest.slice(commandLength)];
}

function findCommand(input: string[]): Found {
  const argv = globalOptionsAfterCommand(input);
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') return { help: mainHelp() };
  if (first === '--version' || first === '-V') return { help: `b2b ${packageVersion()}` };
  const single = COMMANDS.find((c) => c.path.length === 1 && c.path[0] === first);
  if (single) return { spec: single, rest: argv.slice(1) };
  const group = COMMANDS.filter((c) => c.path[0] === first);
  if (group.length === 0) return { error: `unknown command "${first}"` };
  if (second === '--help' || second === '-h') return { help: groupHelp(first) };
  if (second === undefined || second.startsWith('-')) {
    return { error: `"b2b ${first}" needs a command`, usage: groupHelp(first) };
  }
  const spec = group.find((c) => c.path[1] === second);
  if (!spec) return { error: `unknown command "${first} ${second}"; "b2b ${first} --help" lists them` };
  return { spec, rest: argv.slice(2) };
}

/** Runs one command; returns the process exit code (0 ok, 1 failed or found a failure, 2 usage error). */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const found = findCommand(argv);
  if ('help' in found) {
    io.stdout(`${found.help}\n`);
    return 0;
  }
  if ('error' in found) {
    io.stderr(`b2b: ${printable(found.error)}\n\n${found.usage ?? mainHelp()}\n`);
    return 2;
  }
  const { spec, rest } = found;
  let target: Target | undefined;
  let json = false;
  try {
    const parsed = parseCommandArgs(spec, rest);
    json = parsed.global.json;
    if (parsed.global.help) {
      io.stdout(`${commandHelp(spec)}\n`);
      return 0;
    }
    const context: CommandContext = {
      target: async () => {
        target ??= await resolveTarget({
          ...(parsed.global.stage !== undefined ? { stage: parsed.global.stage } : {}),
          ...(parsed.global.stateDir !== undefined ? { stateDir: parsed.global.stateDir } : {}),
          ...(parsed.global.region !== undefined ? { region: parsed.global.region } : {}),
          ...(io.cwd ? { cwd: io.cwd } : {}),
          ...(io.env ? { env: io.env } : {}),
        });
        return target;
      },
      progress: (line) => io.stderr(`${printable(line)}\n`),
      now: io.now ?? (() => new Date()),
      readStdin: io.readStdin,
      confirm: confirmer(io),
      emit: (human, data) => io.stdout(json ? `${printableJson(data, 0)}\n` : `${human.map(printable).join('\n')}\n`),
      get stopped() {
        return io.stop ?? new Promise<void>(() => undefined);
      },
    };
    const result = await spec.run(context, parsed);
    if (!result.streamed) {
      io.stdout(json ? `${printableJson(result.data)}\n` : `${result.human.map(printable).join('\n')}\n`);
    }
    return result.exitCode ?? 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(
        `b2b ${spec.path.join(' ')}: ${printable(error.message)}\nRun "b2b ${spec.path.join(' ')} --help" for usage.\n`,
      );
      return 2;
    }
    const message = describeFailure(error);
    if (json) io.stdout(`${printableJson({ error: message })}\n`);
    io.stderr(`b2b ${spec.path.join(' ')}: ${printable(message)}\n`);
    return 1;
  } finally {
    target?.close();
  }
}

/** The version in the repository's package.json (the CLI runs from its sources). */
function packageVersion(): string {
  const path = fileURLToPath(new URL('../package.json', import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

const NO_REGION = 'no AWS region for --stage: pass --region REGION or set AWS_REGION (or a region in your AWS profile)';

/** An operator error as it is; the SDK's "Region is missing" (wrapped in an OperatorError or not) as what to do. */
function describeFailure(error: unknown): string {
  if (error instanceof Error && /Region is missing/i.test(error.message)) return NO_REGION;
  return error instanceof OperatorError ? error.message : describeUnexpected(error);
}

/** AWS SDK errors carry their service error name; that and the message are what an operator needs. */
function describeUnexpected(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(error.message)) {
    return `cannot connect (${error.message}): is the local runtime running?`;
  }
  return `${error.name}: ${error.message}`;
}
