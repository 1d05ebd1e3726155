import { startConsole } from '../../console/server.js';
import { integerOption, type CommandContext, type CommandResult, type CommandSpec } from '../command.js';

/**
 * `b2b console`: serves the operator console (console/server.ts) for the target, on 127.0.0.1, until Ctrl-C. The
 * local runtime serves one already (its consoleUrl); this one is how a deployed stage is watched.
 */
export const consoleCommand: CommandSpec = {
  path: ['console'],
  summary: 'Serve the live operator console for the target on 127.0.0.1 (until Ctrl-C)',
  description: [
    'A web page that updates live: orders by state and their journey, API destination deliveries and the',
    'dead-letter queue (redrive or discard), refusals at the gateways, partners, alarms and throughput.',
    'On a deployed stage everything is read-only except redrive and discard, which act on the SQS dead-letter',
    'queue and replay from the bus archive. It reads with your AWS credentials; the page never receives a secret.',
  ],
  options: {
    port: { type: 'string', valueName: 'N', description: 'Port on 127.0.0.1 (default: a free one, printed)' },
  },
  examples: ['b2b console --stage dev', 'b2b console --stage prod --region eu-west-1 --port 4600', 'b2b console'],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const port = integerOption(input, 'port', { min: 0, max: 65_535, default: 0 });
    const target = await context.target();
    const running = await startConsole({ locator: target.resources, port });
    context.emit([`Operator console of ${target.label}: ${running.url}  (Ctrl-C to stop)`], { url: running.url });
    await context.stopped;
    await running.close();
    return { data: null, human: [], streamed: true };
  },
};
