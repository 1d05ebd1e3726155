import type { CommandContext, CommandInput, OptionSpec } from '../command.js';
import { stringOption } from '../command.js';
import { parseDuration } from '../time.js';

/** The options of a command that can keep watching: --follow and its bound --for. */
export const FOLLOW_OPTIONS: Record<string, OptionSpec> = {
  follow: {
    type: 'boolean',
    short: 'f',
    description: 'Keep watching: print what is new every few seconds until Ctrl-C (or --for)',
  },
  for: { type: 'string', valueName: 'DURATION', description: 'With --follow: stop after DURATION (e.g. 90s, 15m)' },
};

export function followBound(input: CommandInput): number | undefined {
  const text = stringOption(input, 'for');
  return text === undefined ? undefined : parseDuration(text, 'for');
}

/**
 * Calls `poll` now and then every `intervalMs` until the operator interrupts (SIGINT), `forMs` passes, or `poll`
 * returns false. Returns how many polls ran.
 */
export async function follow(
  context: CommandContext,
  options: { intervalMs: number; forMs?: number },
  poll: () => Promise<boolean | void>,
): Promise<number> {
  let stopped = false;
  let wake: () => void = () => undefined;
  void context.stopped.then(() => {
    stopped = true;
    wake();
  });
  const deadline = options.forMs === undefined ? Infinity : Date.now() + options.forMs;
  let polls = 0;
  while (!stopped) {
    polls += 1;
    if ((await poll()) === false) break;
    const wait = Math.min(options.intervalMs, deadline - Date.now());
    if (wait <= 0) break;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  return polls;
}
