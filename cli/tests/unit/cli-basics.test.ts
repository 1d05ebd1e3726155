import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { printable, printableJson } from '../../../client/printable.js';
import { runCli } from '../../main.js';

async function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: async () => '',
    env,
  });
  return { code, stdout, stderr };
}

describe('b2b basics: version, usage, region', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('b2b --version prints the version in package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const run = await cli([flag]);
      expect(run).toMatchObject({ code: 0, stdout: `b2b ${version}\n` });
    }
  });

  it('a group without its command prints the group usage on stderr and exits 2; --help exits 0', async () => {
    const run = await cli(['dlq']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/"b2b dlq" needs a command/);
    expect(run.stderr).toMatch(/Usage: b2b dlq <list\|redrive\|discard>/);
    expect((await cli(['orders', '--json'])).code).toBe(2);
    const help = await cli(['dlq', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/dlq discard\s+Delete dead-lettered callbacks/);
  });

  it('takes the target and output options before the command too', async () => {
    const missing = '/nonexistent/b2b-state';
    for (const args of [
      ['--state-dir', missing, 'orders', 'get', 'abc'],
      [`--state-dir=${missing}`, '--json', 'orders', 'get', 'abc'],
      ['--state-dir', missing, 'alarms'],
    ]) {
      const run = await cli(args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toContain(missing);
    }
    expect((await cli(['--json', 'dlq'])).stderr).toMatch(/"b2b dlq" needs a command/);
  });

  it('--stage without a region names --region and AWS_REGION', async () => {
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', '');
    vi.stubEnv('AWS_PROFILE', '');
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/b2b-config');
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/b2b-credentials');
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    const run = await cli(['orders', 'get', 'abc', '--stage', 'dev']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no AWS region for --stage: pass --region REGION or set AWS_REGION/);
  });
});

describe('printable', () => {
  it('escapes C0/C1 controls, DEL, lone surrogates, bidi controls and line separators; keeps the rest', () => {
    expect(printable('a\u001b]0;pwned\u0007b\u001b[2Jc\u0000d\re\nf\u007fg\u009bh')).toBe(
      'a\\u001b]0;pwned\\u0007b\\u001b[2Jc\\u0000d\\u000de\\u000af\\u007fg\\u009bh',
    );
    expect(printable('x\ud800y\udc00z')).toBe('x\\ud800y\\udc00z');
    expect(printable('\u202eevil\u2066\u2069\u200f\u2028')).toBe('\\u202eevil\\u2066\\u2069\\u200f\\u2028');
    expect(printable('ok 😀 ünï 東京')).toBe('ok 😀 ünï 東京');
  });

  it('printableJson parses back to the same value and holds no raw control or bidi character', () => {
    const value = { carType: 'x\u001b[2J\u009b\u202e\u2028\ud800', n: 1 };
    const text = printableJson(value);
    expect(JSON.parse(text)).toEqual(value);
    // eslint-disable-next-line no-control-regex -- looking for raw control characters is the point
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2028\u2029]/);
  });
});
