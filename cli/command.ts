import { parseArgs } from 'node:util';
import type { Target } from './target.js';

/**
 * The shape every command has: its options and positionals (parsed with node:util parseArgs, strict), a help text
 * built from them, and a run function returning data (printed as JSON with --json) and human lines.
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** Shown in help as `--name VALUE`. */
  valueName?: string;
  /** Shown in the usage line without brackets (the command checks it). */
  required?: boolean;
  description: string;
}

export interface PositionalSpec {
  name: string;
  description: string;
  required: boolean;
  /** Takes every remaining positional. */
  variadic?: boolean;
}

export interface CommandInput {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export interface CommandContext {
  /** Resolves the target (local runtime or stage) on first use, so --help and usage errors touch nothing. */
  target(): Promise<Target>;
  /** A progress line on stderr (never on stdout, which carries the result). */
  progress(line: string): void;
  now(): Date;
  /** Reads all of stdin (for secrets passed as `-`, never as arguments). */
  readStdin(): Promise<string>;
  /**
   * Asks the operator a yes/no question on the terminal (default no). Without a terminal to ask on, throws a
   * UsageError naming `refusal` (e.g. "pass --yes"), so a script never acts on an unanswered question.
   */
  confirm(question: string, refusal: string): Promise<boolean>;
  /** Resolves when the operator interrupts (SIGINT) a command that follows; tests pass their own stop. */
  stopped: Promise<void>;
  /**
   * Prints part of a result as it happens (--follow): the human lines, or with --json the data as one JSON line
   * (so the output is JSON Lines). A command that emits returns `streamed: true`.
   */
  emit(human: string[], data: unknown): void;
}

export interface CommandResult {
  /** What --json prints. */
  data: unknown;
  /** What is printed otherwise. */
  human: string[];
  /** 0 by default; 1 when the command ran but found a failure (an invalid token, a failed delivery, ...). */
  exitCode?: number;
  /** Everything was printed through emit(): data and human are not printed again. */
  streamed?: boolean;
}

export interface CommandSpec {
  /** Words after `b2b`, e.g. ['dlq', 'list']. */
  path: string[];
  summary: string;
  description?: string[];
  positionals?: PositionalSpec[];
  options?: Record<string, OptionSpec>;
  examples: string[];
  run(context: CommandContext, input: CommandInput): Promise<CommandResult>;
}

/** Wrong usage: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The command could not do what was asked (not found, refused, unreachable): exit code 1, no stack trace. */
export { OperatorError } from '../client/errors.js';

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  stage: {
    type: 'string',
    valueName: 'NAME',
    description: 'Deployed stage to operate on (stacks NAME-CarOrders / NAME-TireOrders, default AWS credentials)',
  },
  'state-dir': {
    type: 'string',
    valueName: 'DIR',
    description:
      'Local runtime state directory holding runtime.json (default $B2B_STATE_DIR, else the nearest .local/ up from here)',
  },
  region: {
    type: 'string',
    valueName: 'REGION',
    description: "AWS region for --stage (default: AWS_REGION or the profile's region)",
  },
  json: { type: 'boolean', description: 'Print the result as JSON on stdout (progress stays on stderr)' },
  help: { type: 'boolean', short: 'h', description: 'Show help' },
};

export function parseCommandArgs(spec: CommandSpec, args: string[]): CommandInput & { global: GlobalValues } {
  const options = { ...GLOBAL_OPTIONS, ...spec.options };
  // `--from -2h`: a value that starts with "-" and a digit is a relative time, never an option; parseArgs would call
  // it ambiguous, so it is joined to its option as `--from=-2h`.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const option = arg.startsWith('--') ? options[arg.slice(2)] : undefined;
    if (option?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: joined,
      options: Object.fromEntries(
        Object.entries(options).map(([name, option]) => [
          name,
          {
            type: option.type,
            ...(option.multiple ? { multiple: true } : {}),
            ...(option.short ? { short: option.short } : {}),
          },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as CommandInput['values'];
  const global: GlobalValues = {
    ...(typeof values.stage === 'string' ? { stage: values.stage } : {}),
    ...(typeof values['state-dir'] === 'string' ? { stateDir: values['state-dir'] } : {}),
    ...(typeof values.region === 'string' ? { region: values.region } : {}),
    json: values.json === true,
    help: values.help === true,
  };
  if (!global.help) checkPositionals(spec, parsed.positionals);
  return { values, positionals: parsed.positionals, global };
}

export interface GlobalValues {
  stage?: string;
  stateDir?: string;
  region?: string;
  json: boolean;
  help: boolean;
}

function checkPositionals(spec: CommandSpec, positionals: string[]): void {
  const declared = spec.positionals ?? [];
  const required = declared.filter((p) => p.required);
  if (positionals.length < required.length) {
    throw new UsageError(
      `missing ${required
        .slice(positionals.length)
        .map((p) => p.name)
        .join(', ')}`,
    );
  }
  const variadic = declared.some((p) => p.variadic);
  if (!variadic && positionals.length > declared.length) {
    throw new UsageError(`unexpected argument "${positionals[declared.length]}"`);
  }
}

export function usageLine(spec: CommandSpec): string {
  const positionals = (spec.positionals ?? []).map((p) => {
    const name = p.variadic ? `${p.name}...` : p.name;
    return p.required ? name : `[${name}]`;
  });
  const options = Object.entries(spec.options ?? {}).map(([name, option]) => {
    const flag =
      option.type === 'boolean'
        ? `--${name}`
        : `--${name} ${option.valueName ?? 'VALUE'}${option.multiple ? '...' : ''}`;
    return option.required ? flag : `[${flag}]`;
  });
  return ['b2b', ...spec.path, ...positionals, ...options].join(' ');
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: ${usageLine(spec)}`, '', spec.summary];
  if (spec.description?.length) lines.push('', ...spec.description);
  if (spec.positionals?.length) {
    lines.push('', 'Arguments:');
    for (const p of spec.positionals) lines.push(`  ${p.name.padEnd(24)} ${p.description}`);
  }
  const optionLines = (options: Record<string, OptionSpec>) =>
    Object.entries(options).map(([name, option]) => {
      const flag = `${option.short ? `-${option.short}, ` : ''}--${name}${option.type === 'string' ? ` ${option.valueName ?? 'VALUE'}` : ''}`;
      return `  ${flag.padEnd(24)} ${option.description}${option.multiple ? ' (repeatable)' : ''}`;
    });
  if (spec.options && Object.keys(spec.options).length > 0) lines.push('', 'Options:', ...optionLines(spec.options));
  lines.push('', 'Target and output:', ...optionLines(GLOBAL_OPTIONS));
  if (spec.examples.length) lines.push('', 'Examples:', ...spec.examples.map((example) => `  ${example}`));
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Typed readers of parsed values
// ---------------------------------------------------------------------------------------------------------------

export function stringOption(input: CommandInput, name: string): string | undefined {
  const value = input.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredStringOption(input: CommandInput, name: string): string {
  const value = stringOption(input, name);
  if (value === undefined || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function stringListOption(input: CommandInput, name: string): string[] {
  const value = input.values[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

export function booleanOption(input: CommandInput, name: string): boolean {
  return input.values[name] === true;
}

export function integerOption(
  input: CommandInput,
  name: string,
  range: { min: number; max: number; default: number },
): number {
  const text = stringOption(input, name);
  if (text === undefined) return range.default;
  const value = Number(text);
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new UsageError(`--${name} must be a whole number from ${range.min} to ${range.max}, not "${text}"`);
  }
  return value;
}
