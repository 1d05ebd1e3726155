import {
  commandHelp,
  GLOBAL_OPTIONS,
  OperatorError,
  parseCommandArgs,
  UsageError,
  type CommandContext,
  type CommandSpec,
} from './command.js';
import { auditCommand } from './commands/audit.js';
import { capacityCommand } from './commands/capacity.js';
import { dlqListCommand, dlqRedriveCommand } from './commands/dlq.js';
import { keysListCommand, keysRotateCommand } from './commands/keys.js';
import { ordersFailedCommand, ordersRetryCommand, ordersTraceCommand } from './commands/orders.js';
import {
  partnersListCommand,
  partnersOnboardCommand,
  partnersRevokeCommand,
  partnersRotateSecretCommand,
} from './commands/partners.js';
import { replayCommand } from './commands/replay.js';
import { tokenInspectCommand } from './commands/token.js';
import { resolveTarget, type Target } from './target.js';

/**
 * `b2b`: the operator CLI. One command per operator task, the same against the local runtime (default) and a
 * deployed stage (--stage NAME). `runCli` is the whole program with its I/O passed in, so tests run it in-process.
 */

export const COMMANDS: CommandSpec[] = [
  replayCommand,
  dlqListCommand,
  dlqRedriveCommand,
  ordersTraceCommand,
  ordersFailedCommand,
  ordersRetryCommand,
  partnersOnboardCommand,
  partnersRotateSecretCommand,
  partnersRevokeCommand,
  partnersListCommand,
  keysRotateCommand,
  keysListCommand,
  tokenInspectCommand,
  auditCommand,
  capacityCommand,
];

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
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
};

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
    'Run "b2b <command> --help" for a command\'s options and examples.',
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

function findCommand(argv: string[]): { spec: CommandSpec; rest: string[] } | { help: string } | { error: string } {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') return { help: mainHelp() };
  const single = COMMANDS.find((c) => c.path.length === 1 && c.path[0] === first);
  if (single) return { spec: single, rest: argv.slice(1) };
  const group = COMMANDS.filter((c) => c.path[0] === first);
  if (group.length === 0) return { error: `unknown command "${first}"` };
  if (second === undefined || second === '--help' || second === '-h') return { help: groupHelp(first) };
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
    io.stderr(`b2b: ${found.error}\n\n${mainHelp()}\n`);
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
      progress: (line) => io.stderr(`${line}\n`),
      now: io.now ?? (() => new Date()),
      readStdin: io.readStdin,
    };
    const result = await spec.run(context, parsed);
    io.stdout(json ? `${JSON.stringify(result.data, null, 2)}\n` : `${result.human.join('\n')}\n`);
    return result.exitCode ?? 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`b2b ${spec.path.join(' ')}: ${error.message}\nRun "b2b ${spec.path.join(' ')} --help" for usage.\n`);
      return 2;
    }
    const message = error instanceof OperatorError ? error.message : describeUnexpected(error);
    if (json) io.stdout(`${JSON.stringify({ error: message }, null, 2)}\n`);
    io.stderr(`b2b ${spec.path.join(' ')}: ${message}\n`);
    return 1;
  } finally {
    target?.close();
  }
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
