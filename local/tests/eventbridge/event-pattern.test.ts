import { describe, expect, it } from 'vitest';
import { EventPattern, InvalidEventPatternError, matchesEventPattern } from '../../aws/eventbridge/event-pattern.js';

// The sample event of the EventBridge docs / Event Ruler README.
const ec2Event = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

const cases: Array<{ name: string; pattern: object; event?: object; matches: boolean }> = [
  // Simple matching and arrays
  {
    name: 'exact values, event array intersects pattern array',
    pattern: {
      'detail-type': ['EC2 Instance State-change Notification'],
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
      detail: { state: ['initializing', 'running'] },
    },
    matches: true,
  },
  { name: 'exact value not in the list', pattern: { detail: { state: ['stopped', 'pending'] } }, matches: false },
  {
    name: 'every named field must match (AND)',
    pattern: { source: ['aws.ec2'], detail: { state: ['stopped'] } },
    matches: false,
  },
  { name: 'missing field does not match an exact value', pattern: { detail: { missing: ['x'] } }, matches: false },
  { name: 'nesting must match: detail.state is not top-level state', pattern: { state: ['running'] }, matches: false },
  { name: 'numbers match by value (3.018e2 == 301.8)', pattern: { detail: { 'x-limit': [3.018e2] } }, matches: true },
  { name: 'a string does not match a number', pattern: { detail: { 'c-count': ['5'] } }, matches: false },
  {
    name: 'empty string matches an empty value',
    pattern: { detail: { name: [''] } },
    event: { detail: { name: '' } },
    matches: true,
  },
  {
    name: 'null matches null',
    pattern: { detail: { name: [null] } },
    event: { detail: { name: null } },
    matches: true,
  },
  {
    name: 'null does not match an absent field',
    pattern: { detail: { name: [null] } },
    event: { detail: {} },
    matches: false,
  },
  {
    name: 'booleans match literally',
    pattern: { detail: { on: [true] } },
    event: { detail: { on: true } },
    matches: true,
  },
  {
    name: 'boolean true does not match "true"',
    pattern: { detail: { on: [true] } },
    event: { detail: { on: 'true' } },
    matches: false,
  },

  // Prefix / suffix / equals-ignore-case / wildcard
  { name: 'prefix on time', pattern: { time: [{ prefix: '2017-10-02' }] }, matches: true },
  { name: 'prefix miss', pattern: { time: [{ prefix: '2018' }] }, matches: false },
  { name: 'prefix only on strings', pattern: { detail: { 'c-count': [{ prefix: '5' }] } }, matches: false },
  {
    name: 'prefix equals-ignore-case',
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    event: { detail: { service: 'eventbridge' } },
    matches: true,
  },
  { name: 'suffix', pattern: { source: [{ suffix: 'ec2' }] }, matches: true },
  {
    name: 'suffix ".png"',
    pattern: { FileName: [{ suffix: '.png' }] },
    event: { FileName: 'image.PNG' },
    matches: false,
  },
  {
    name: 'suffix equals-ignore-case ".png"',
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    event: { detail: { FileName: 'image.PNG' } },
    matches: true,
  },
  { name: 'equals-ignore-case', pattern: { source: [{ 'equals-ignore-case': 'AWS.EC2' }] }, matches: true },
  {
    name: 'equals-ignore-case "alice"',
    pattern: { Name: [{ 'equals-ignore-case': 'alice' }] },
    event: { Name: 'Alice' },
    matches: true,
  },
  {
    name: 'wildcard Simple*Service',
    pattern: { source: [{ wildcard: 'Simple*Service' }] },
    event: { source: 'SimpleQueueService' },
    matches: true,
  },
  {
    name: 'wildcard with zero characters',
    pattern: { source: [{ wildcard: 'Simple*Service' }] },
    event: { source: 'SimpleService' },
    matches: true,
  },
  {
    name: 'wildcard is anchored',
    pattern: { source: [{ wildcard: 'Simple*Service' }] },
    event: { source: 'SimpleQueueServices' },
    matches: false,
  },
  {
    name: 'wildcard escaped asterisk is literal',
    pattern: { key: [{ wildcard: 'a\\*b' }] },
    event: { key: 'a*b' },
    matches: true,
  },
  {
    name: 'wildcard escaped asterisk does not match other characters',
    pattern: { key: [{ wildcard: 'a\\*b' }] },
    event: { key: 'axb' },
    matches: false,
  },
  {
    name: 'wildcard regex characters are literal',
    pattern: { FilePath: [{ wildcard: '*/lib/*.js' }] },
    event: { FilePath: '/usr/lib/xjs' },
    matches: false,
  },

  // Anything-but
  { name: 'anything-but string', pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, matches: true },
  {
    name: 'anything-but string excludes it',
    pattern: { detail: { state: [{ 'anything-but': 'running' }] } },
    matches: false,
  },
  { name: 'anything-but number', pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, matches: true },
  {
    name: 'anything-but list of strings',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    matches: true,
  },
  {
    name: 'anything-but list of numbers excludes 5',
    pattern: { detail: { 'c-count': [{ 'anything-but': [5, 200, 300] }] } },
    matches: false,
  },
  {
    name: 'anything-but does not match an absent field',
    pattern: { detail: { absent: [{ 'anything-but': 'x' }] } },
    matches: false,
  },
  {
    name: 'anything-but prefix "init"',
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    matches: true,
  },
  {
    name: 'anything-but prefix "us-" excludes us-east-1',
    pattern: { region: [{ 'anything-but': { prefix: 'us-' } }] },
    matches: false,
  },
  {
    name: 'anything-but suffix ".png"',
    pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    event: { FileName: 'photo.jpg' },
    matches: true,
  },
  {
    name: 'anything-but equals-ignore-case',
    pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'RUNNING' } }] } },
    matches: false,
  },
  {
    name: 'anything-but equals-ignore-case list',
    pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['STOPPED', 'PENDING'] } }] } },
    matches: true,
  },
  {
    name: 'anything-but wildcard */lib/*',
    pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    event: { FilePath: '/usr/lib/node' },
    matches: false,
  },
  {
    name: 'anything-but wildcard lets other paths through',
    pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    event: { FilePath: '/usr/bin/node' },
    matches: true,
  },
  {
    name: 'anything-but with an array value: one element outside the list suffices',
    pattern: { tags: [{ 'anything-but': 'a' }] },
    event: { tags: ['a', 'b'] },
    matches: true,
  },

  // Numeric
  {
    name: 'numeric ranges from the docs (all true)',
    pattern: {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    },
    matches: true,
  },
  {
    name: 'numeric upper bound is exclusive with <',
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<', 5] }] } },
    matches: false,
  },
  { name: 'numeric >= inclusive', pattern: { detail: { 'c-count': [{ numeric: ['>=', 5] }] } }, matches: true },
  { name: 'numeric only on numbers', pattern: { detail: { state: [{ numeric: ['>', 0] }] } }, matches: false },

  // IP address
  {
    name: 'cidr 10.0.0.0/24 contains 10.0.0.33',
    pattern: { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } },
    matches: true,
  },
  {
    name: 'cidr 10.0.1.0/24 does not',
    pattern: { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } },
    matches: false,
  },
  {
    name: 'cidr IPv6',
    pattern: { detail: { 'source-ip': [{ cidr: '2001:db8::/32' }] } },
    event: { detail: { 'source-ip': '2001:db8:0:1::5' } },
    matches: true,
  },
  {
    name: 'cidr IPv6 miss',
    pattern: { detail: { 'source-ip': [{ cidr: '2001:db8::/32' }] } },
    event: { detail: { 'source-ip': '2001:db9::5' } },
    matches: false,
  },
  {
    name: 'cidr does not match a non-address',
    pattern: { detail: { 'source-ip': [{ cidr: '10.0.0.0/8' }] } },
    event: { detail: { 'source-ip': 'not-an-ip' } },
    matches: false,
  },

  // Exists
  { name: 'exists true', pattern: { detail: { state: [{ exists: true }] } }, matches: true },
  { name: 'exists true on an absent field', pattern: { detail: { absent: [{ exists: true }] } }, matches: false },
  { name: 'exists false on an absent field', pattern: { detail: { 'e-count': [{ exists: false }] } }, matches: true },
  { name: 'exists false on a present field', pattern: { detail: { state: [{ exists: false }] } }, matches: false },
  {
    name: 'exists false matches a non-leaf (docs: c-count holding an object)',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: { detail: { state: ['initializing', 'running'], 'c-count': { c1: 100 } } },
    matches: true,
  },
  {
    name: 'exists true does not match a non-leaf',
    pattern: { detail: { 'c-count': [{ exists: true }] } },
    event: { detail: { 'c-count': { c1: 100 } } },
    matches: false,
  },
  {
    name: 'exists false when the parent object is missing',
    pattern: { detail: { correlationId: [{ exists: false }] } },
    event: { source: 'x' },
    matches: true,
  },
  {
    name: 'replayed events can be excluded with exists false on replay-name',
    pattern: { source: ['tire-orders'], 'replay-name': [{ exists: false }] },
    event: { source: 'tire-orders', 'replay-name': 'r1' },
    matches: false,
  },

  // Arrays of objects (array-consistent matching, Ruler README)
  {
    name: 'field inside an array of objects',
    pattern: { employees: { firstName: ['Anna'] } },
    event: {
      employees: [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
      ],
    },
    matches: true,
  },
  {
    name: 'fields from different array elements do not combine',
    pattern: { employees: { firstName: ['Anna'], lastName: ['Jones'] } },
    event: {
      employees: [
        { firstName: 'Anna', lastName: 'Smith' },
        { firstName: 'Peter', lastName: 'Jones' },
      ],
    },
    matches: false,
  },
  {
    name: 'multi-level arrays are crushed',
    pattern: { employees: { firstName: ['Peter'] } },
    event: { employees: [[{ firstName: 'John' }], [{ firstName: 'Peter' }]] },
    matches: true,
  },

  // $or (Ruler README examples)
  {
    name: '$or: source && (metricName || namespace) via namespace',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    },
    event: { source: 'aws.cloudwatch', metricName: 'Other', namespace: 'AWS/EC2' },
    matches: true,
  },
  {
    name: '$or: neither alternative',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    },
    event: { source: 'aws.cloudwatch', metricName: 'Other', namespace: 'AWS/S3' },
    matches: false,
  },
  {
    name: '$or: the AND outside still applies',
    pattern: { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }] },
    event: { source: 'aws.ec2', metricName: 'CPUUtilization' },
    matches: false,
  },
  {
    name: '$or with an AND inside and a nested $or',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization', 'ReadLatency'] },
        {
          metricType: ['MetricType'],
          namespace: ['AWS/EC2', 'AWS/ES'],
          $or: [{ metricId: [1234] }, { spaceId: [1000] }],
        },
        { scope: ['Service'] },
      ],
    },
    event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES', spaceId: 1000 },
    matches: true,
  },
  {
    name: '$or nested AND fails when the inner $or fails',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization', 'ReadLatency'] },
        {
          metricType: ['MetricType'],
          namespace: ['AWS/EC2', 'AWS/ES'],
          $or: [{ metricId: [1234] }, { spaceId: [1000] }],
        },
      ],
    },
    event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES', spaceId: 1 },
    matches: false,
  },
  {
    name: 'parallel $or inside detail',
    pattern: {
      $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }],
      detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
    },
    event: { namespace: 'AWS/EC2', detail: { 'detail-type': 'CloudWatch Alarm State Change' } },
    matches: true,
  },

  // Complex example of the docs
  {
    name: 'complex example with multiple matching',
    pattern: {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
        'source-ip': [{ cidr: '10.0.0.0/8' }],
      },
    },
    matches: true,
  },

  // This project's rule
  {
    name: 'TireOrderCompleted rule',
    pattern: { source: ['tire-orders'], 'detail-type': ['TireOrderCompleted'] },
    event: { source: 'tire-orders', 'detail-type': 'TireOrderCompleted', detail: { carOrderId: 'c-1' } },
    matches: true,
  },
  {
    name: 'TireOrderCompleted rule ignores other detail types',
    pattern: { source: ['tire-orders'], 'detail-type': ['TireOrderCompleted'] },
    event: { source: 'tire-orders', 'detail-type': 'TireOrderPlaced', detail: {} },
    matches: false,
  },
];

describe('event pattern matching (docs examples)', () => {
  it.each(cases)('$name', ({ pattern, event, matches }) => {
    expect(matchesEventPattern(pattern, event ?? ec2Event)).toBe(matches);
    // The JSON text form compiles to the same matcher.
    expect(EventPattern.compile(JSON.stringify(pattern)).matches(event ?? ec2Event)).toBe(matches);
  });

  it('keeps the pattern text for DescribeRule', () => {
    const text = '{"source":["tire-orders"]}';
    expect(EventPattern.compile(text).source).toBe(text);
    expect(EventPattern.compile({ source: ['a'] }).source).toBe('{"source":["a"]}');
  });
});

const invalid: Array<{ name: string; pattern: string | object; reason: RegExp }> = [
  { name: 'not JSON', pattern: '{"source": [', reason: /not valid JSON/ },
  { name: 'not an object', pattern: '["a"]', reason: /not an object/ },
  { name: 'empty pattern', pattern: {}, reason: /Empty/ },
  { name: 'leaf is not an array', pattern: { source: 'aws.ec2' }, reason: /array or an object/ },
  { name: 'empty array', pattern: { source: [] }, reason: /Empty arrays/ },
  { name: 'unknown operator', pattern: { source: [{ contains: 'x' }] }, reason: /Unrecognized match type contains/ },
  { name: 'two keys in one operator', pattern: { source: [{ prefix: 'a', suffix: 'b' }] }, reason: /Only one key/ },
  {
    name: 'prefix not a string',
    pattern: { source: [{ prefix: 1 }] },
    reason: /prefix match pattern must be a string/,
  },
  { name: 'consecutive wildcards', pattern: { source: [{ wildcard: 'a**b' }] }, reason: /Consecutive wildcard/ },
  { name: 'bad escape in wildcard', pattern: { source: [{ wildcard: 'a\\b' }] }, reason: /Invalid escape/ },
  {
    name: 'numeric with unknown operator',
    pattern: { n: [{ numeric: ['!=', 1] }] },
    reason: /Unrecognized numeric range operator/,
  },
  {
    name: 'numeric range upside down',
    pattern: { n: [{ numeric: ['>', 5, '<', 1] }] },
    reason: /Bottom must be less than top/,
  },
  { name: 'numeric range in the wrong order', pattern: { n: [{ numeric: ['<', 5, '>', 1] }] }, reason: /lower bound/ },
  { name: 'numeric out of range', pattern: { n: [{ numeric: ['>', 6e9] }] }, reason: /between -5.0e9 and \+5.0e9/ },
  { name: 'anything-but mixed list', pattern: { s: [{ 'anything-but': ['a', 1] }] }, reason: /mixed types/ },
  // AWS accepts a list of prefixes in anything-but (see the conformance corpus) but no empty one.
  {
    name: 'anything-but prefix list with an empty prefix',
    pattern: { s: [{ 'anything-but': { prefix: ['a', ''] } }] },
    reason: /Null prefix\/suffix not allowed/,
  },
  { name: 'exists not boolean', pattern: { s: [{ exists: 'yes' }] }, reason: /either true or false/ },
  { name: 'malformed cidr', pattern: { ip: [{ cidr: '10.0.0.0/33' }] }, reason: /prefix length/ },
  { name: 'cidr not an address', pattern: { ip: [{ cidr: 'nope/8' }] }, reason: /Malformed CIDR/ },
  { name: '$or with one alternative', pattern: { $or: [{ a: ['x'] }] }, reason: /at least two/ },
];

describe('event pattern validation', () => {
  it.each(invalid)('rejects $name', ({ pattern, reason }) => {
    let error: unknown;
    try {
      EventPattern.compile(pattern);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    expect((error as Error).message).toMatch(/^Event pattern is not valid\. Reason: /);
    expect((error as Error).message).toMatch(reason);
  });
});

describe('event pattern hardening', () => {
  it('refuses a wildcard above the complexity limit with the message AWS answers, and accepts one at it', () => {
    expect(() => EventPattern.compile({ key: [{ wildcard: '*a*a*a*a*' }] })).toThrow(
      'Event pattern is not valid. Reason: Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character',
    );
    expect(() =>
      EventPattern.compile({ key: [{ wildcard: '*/bin/*.jar' }, { wildcard: '*/bin/*.class' }] }),
    ).not.toThrow();
  });

  // Attack: with a regular expression (^.*a.*b.*c.*d.*e.*$) this value backtracks for hours and stalls the bus.
  it('matches an accepted wildcard against a long adversarial value in linear time', () => {
    const value = 'abcd'.repeat(40_000);
    expect(matchesEventPattern({ key: [{ wildcard: '*a*b*c*d*e*' }] }, { key: value })).toBe(false);
    expect(matchesEventPattern({ key: [{ 'anything-but': { wildcard: '*a*b*c*d*e*' } }] }, { key: value })).toBe(true);
    expect(matchesEventPattern({ key: [{ wildcard: '*a*b*c*d*' }] }, { key: value })).toBe(true);
  });

  it('reads a dotted event key and the nested spelling of the same field together', () => {
    const event = { detail: { state: 'running' }, 'detail.state': 'stopped' };
    expect(matchesEventPattern({ 'detail.state': ['stopped'] }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { state: ['running'] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { state: ['pending'] } }, event)).toBe(false);
  });
});
