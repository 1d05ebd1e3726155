import { describe, expect, it } from 'vitest';
import { commandHelp, parseCommandArgs, UsageError } from '../../command.js';
import { deadLetterOf } from '../../commands/dlq.js';
import { tallyReplay } from '../../commands/replay.js';
import { COMMANDS, runCli } from '../../main.js';
import { canonicalCidr, parsePolicy, withPolicyAddresses } from '../../lib/allowlist.js';
import { orderChanges } from '../../lib/orders.js';
import { humanDuration, parseDuration, parseInstant } from '../../time.js';

const NOW = new Date('2026-05-01T12:00:00.000Z');

describe('time arguments', () => {
  it('reads ISO instants (a zone-less time is UTC), "now" and times relative to now', () => {
    expect(parseInstant('2026-05-01T10:00:00Z', 'from', NOW).toISOString()).toBe('2026-05-01T10:00:00.000Z');
    expect(parseInstant('2026-05-01T10:00', 'from', NOW).toISOString()).toBe('2026-05-01T10:00:00.000Z');
    expect(parseInstant('2026-05-01', 'from', NOW).toISOString()).toBe('2026-05-01T00:00:00.000Z');
    expect(parseInstant('2026-05-01T12:00:00+02:00', 'from', NOW).toISOString()).toBe('2026-05-01T10:00:00.000Z');
    expect(parseInstant('now', 'to', NOW).toISOString()).toBe(NOW.toISOString());
    expect(parseInstant('-90m', 'from', NOW).toISOString()).toBe('2026-05-01T10:30:00.000Z');
    expect(parseInstant('-2d', 'from', NOW).toISOString()).toBe('2026-04-29T12:00:00.000Z');
    expect(() => parseInstant('yesterday', 'from', NOW)).toThrow(UsageError);
    expect(() => parseInstant('2026-13-45T99:00:00Z', 'from', NOW)).toThrow(/not a valid time/);
  });

  it('reads durations and prints them for humans', () => {
    expect(parseDuration('24h', 'grace')).toBe(86_400_000);
    expect(parseDuration('1.5s', 'grace')).toBe(1500);
    expect(() => parseDuration('24 hours', 'grace')).toThrow(/--grace must be a duration/);
    expect(humanDuration(59_000)).toBe('59 s');
    expect(humanDuration(61 * 60_000)).toBe('1 h 1 min');
    expect(humanDuration(3 * 86_400_000)).toBe('3 d');
  });
});

describe('arguments and help', () => {
  it('takes a relative time after an option as its value, not as an option', () => {
    const replay = COMMANDS.find((c) => c.path[0] === 'replay')!;
    const parsed = parseCommandArgs(replay, ['--from', '-2h', '--to', '-15m', '--json']);
    expect(parsed.values.from).toBe('-2h');
    expect(parsed.values.to).toBe('-15m');
    expect(parsed.global.json).toBe(true);
    expect(() => parseCommandArgs(replay, ['--from', '-2h', 'extra'])).toThrow(/unexpected argument "extra"/);
    expect(() => parseCommandArgs(replay, ['--nope'])).toThrow(UsageError);
  });

  it('has --help with usage, options and examples on every command', async () => {
    for (const command of COMMANDS) {
      const help = commandHelp(command);
      expect(help).toMatch(new RegExp(`^Usage: b2b ${command.path.join(' ')}`));
      expect(help).toContain('--json');
      expect(help).toContain('Examples:');
      let stdout = '';
      const code = await runCli([...command.path, '--help'], {
        stdout: (t) => (stdout += t),
        stderr: () => undefined,
        readStdin: async () => '',
      });
      expect(code).toBe(0);
      expect(stdout.trim()).toBe(help);
    }
  });

  it('exits 2 on an unknown command or a missing argument, touching no target', async () => {
    let stderr = '';
    const io = { stdout: () => undefined, stderr: (t: string) => (stderr += t), readStdin: async () => '' };
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(stderr).toMatch(/unknown command "frobnicate"/);
    expect(await runCli(['orders', 'trace'], io)).toBe(2);
    expect(stderr).toMatch(/missing CAR_ORDER_ID/);
    expect(
      await runCli(['partners', 'onboard', 'Bad Name', '--cidr', '10.0.0.0/8', '--state-dir', '/nonexistent'], io),
    ).toBe(2);
    expect(stderr).toMatch(/partner name "Bad Name"/);
  });
});

describe('allowlist editing', () => {
  it('canonicalizes CIDRs and refuses what is not a narrow IPv4 range', () => {
    expect(canonicalCidr('203.0.113.77/28')).toBe('203.0.113.64/28');
    expect(canonicalCidr(' 198.51.100.7/32 ')).toBe('198.51.100.7/32');
    expect(() => canonicalCidr('0.0.0.0/0')).toThrow(/too broad/);
    expect(() => canonicalCidr('300.1.1.1/32')).toThrow(/not an IPv4 CIDR/);
    expect(() => canonicalCidr('2001:db8::/32')).toThrow(/not an IPv4 CIDR/);
  });

  it('reads the policy as GetRestApi returns it (escaped once more) and edits only the deny statement', () => {
    const document = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AllowInvoke',
          Effect: 'Allow',
          Principal: '*',
          Action: 'execute-api:Invoke',
          Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc/*',
        },
        {
          Sid: 'DenyOutsidePartnerAllowlist',
          Effect: 'Deny',
          Principal: '*',
          Action: 'execute-api:Invoke',
          Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc/*',
          Condition: { NotIpAddress: { 'aws:SourceIp': '198.51.100.7/32' } },
        },
      ],
    };
    const escaped = JSON.stringify(document).replace(/"/g, '\\"').replace(/\//g, '\\/');
    expect(parsePolicy(escaped)).toEqual(document);
    expect(parsePolicy(JSON.stringify(document))).toEqual(document);
    const { document: added, changed } = withPolicyAddresses(document, (a) => [...a, '203.0.113.0/28']);
    expect(changed).toBe(true);
    expect((added.Statement as typeof document.Statement)[1]!.Condition!.NotIpAddress['aws:SourceIp']).toEqual([
      '198.51.100.7/32',
      '203.0.113.0/28',
    ]);
    expect((added.Statement as typeof document.Statement)[0]).toEqual(document.Statement[0]);
    expect(withPolicyAddresses(document, (a) => a).changed).toBe(false);
    expect(() => withPolicyAddresses({ Statement: [document.Statement[0]!] }, (a) => a)).toThrow(/no Deny statement/);
  });
});

describe('dead letters, replay tallies and order changes', () => {
  it('reads an EventBridge dead-letter message: the event and the documented attributes', () => {
    const letter = deadLetterOf({
      MessageId: 'm-1',
      ReceiptHandle: 'r-1',
      Body: JSON.stringify({
        id: 'e-1',
        time: '2026-05-01T11:00:00Z',
        'detail-type': 'TireOrderCompleted',
        source: 'tire-orders',
        detail: { carOrderId: 'c-1', tireOrderId: 't-1', correlationId: 'k-1' },
      }),
      Attributes: { SentTimestamp: String(Date.parse('2026-05-01T11:00:05Z')), ApproximateReceiveCount: '2' },
      MessageAttributes: {
        ERROR_CODE: { DataType: 'String', StringValue: 'SDK_CLIENT_ERROR' },
        ERROR_MESSAGE: { DataType: 'String', StringValue: 'endpoint returned HTTP status code 503' },
        RETRY_ATTEMPTS: { DataType: 'String', StringValue: '12' },
        EXHAUSTED_RETRY_CONDITION: { DataType: 'String', StringValue: 'MaximumRetryAttempts' },
        RULE_ARN: {
          DataType: 'String',
          StringValue: 'arn:aws:events:eu-west-1:123456789012:rule/dev-tire-orders/TireOrderCompletedToCarMaker',
        },
      },
    });
    expect(letter).toMatchObject({
      messageId: 'm-1',
      sentAt: '2026-05-01T11:00:05.000Z',
      receiveCount: 2,
      errorCode: 'SDK_CLIENT_ERROR',
      retryAttempts: 12,
      exhaustedRetryCondition: 'MaximumRetryAttempts',
      event: {
        id: 'e-1',
        carOrderId: 'c-1',
        tireOrderId: 't-1',
        correlationId: 'k-1',
        detailType: 'TireOrderCompleted',
      },
    });
    expect(deadLetterOf({ MessageId: 'm-2', ReceiptHandle: 'r', Body: 'not json' }).unreadable).toMatch(/not JSON/);
    expect(deadLetterOf({ MessageId: 'm-3', ReceiptHandle: 'r', Body: '{"hello":1}' }).unreadable).toMatch(
      /not an EventBridge event/,
    );
  });

  it('tallies a replay from the audit log by the final outcome of each delivery', () => {
    const t = '2026-05-01T11:00:00.000Z';
    const tally = tallyReplay(
      [
        {
          time: t,
          kind: 'event',
          bus: 'b',
          eventId: 'e1',
          source: 's',
          detailType: 'd',
          replayName: 'r1',
          detail: { carOrderId: 'c1' },
        },
        {
          time: t,
          kind: 'event',
          bus: 'b',
          eventId: 'e2',
          source: 's',
          detailType: 'd',
          replayName: 'r1',
          detail: { carOrderId: 'c2' },
        },
        { time: t, kind: 'event', bus: 'b', eventId: 'e3', source: 's', detailType: 'd', detail: {} },
        {
          time: t,
          kind: 'delivery',
          rule: 'R',
          eventId: 'e1',
          attempt: 1,
          url: 'u',
          outcome: 'retrying',
          error: 'x',
          replayName: 'r1',
        },
        {
          time: t,
          kind: 'delivery',
          rule: 'R',
          eventId: 'e1',
          attempt: 2,
          url: 'u',
          status: 204,
          outcome: 'delivered',
          replayName: 'r1',
        },
        {
          time: t,
          kind: 'delivery',
          rule: 'R',
          eventId: 'e2',
          attempt: 1,
          url: 'u',
          status: 404,
          outcome: 'dead-lettered',
          error: 'gone',
          replayName: 'r1',
        },
        {
          time: t,
          kind: 'delivery',
          rule: 'R',
          eventId: 'e3',
          attempt: 1,
          url: 'u',
          status: 204,
          outcome: 'delivered',
        },
      ],
      'r1',
    );
    expect(tally).toEqual({
      replayed: 2,
      delivered: 1,
      final: 2,
      failures: [{ eventId: 'e2', rule: 'R', carOrderId: 'c2', outcome: 'dead-lettered', error: '404 gone' }],
    });
  });

  it('counts an order as changed when its status or updatedAt moved, or it appeared', () => {
    const before = new Map([
      ['a', { id: 'a', status: 'OrderCompleted', updatedAt: '1' }],
      ['b', { id: 'b', status: 'TiresOrdered', updatedAt: '1' }],
    ]);
    const after = new Map([
      ['a', { id: 'a', status: 'OrderCompleted', updatedAt: '1' }],
      ['b', { id: 'b', status: 'OrderCompleted', updatedAt: '2' }],
      ['c', { id: 'c', status: 'OrderSubmitted', updatedAt: '3' }],
    ]);
    expect(orderChanges(before, after, ['a', 'b', 'c', 'a'])).toEqual([
      {
        carOrderId: 'b',
        before: { status: 'TiresOrdered', updatedAt: '1' },
        after: { status: 'OrderCompleted', updatedAt: '2' },
      },
      { carOrderId: 'c', before: null, after: { status: 'OrderSubmitted', updatedAt: '3' } },
    ]);
  });
});
