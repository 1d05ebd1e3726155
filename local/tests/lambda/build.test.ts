import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carOrdersService } from '../../../car-orders/service.js';
import { lambdaBundling } from '../../../shared/bundling.js';
import { tireOrdersEnvironment, tireOrdersService } from '../../../tire-orders/service.js';
import { buildLambda, lambdaEsbuildOptions, LocalLambdaRuntime } from '../../lambda/index.js';

describe('buildLambda', () => {
  let workDir: string;

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'local-lambda-build-'));
  });

  afterAll(() => {
    rmSync(workDir, { recursive: true, force: true });
  });

  it('maps lambdaBundling onto esbuild exactly, bundling everything', () => {
    const options = lambdaEsbuildOptions({ entry: 'x/handler.ts', outfile: '/out/index.mjs', repoRoot: '/repo' });
    expect(options).toMatchObject({
      entryPoints: ['/repo/x/handler.ts'],
      outfile: '/out/index.mjs',
      bundle: true,
      format: lambdaBundling.format,
      platform: lambdaBundling.platform,
      target: lambdaBundling.target,
      minify: lambdaBundling.minify,
      sourcemap: lambdaBundling.sourcemap,
      mainFields: lambdaBundling.mainFields,
      banner: { js: lambdaBundling.banner },
      external: lambdaBundling.external,
      alias: lambdaBundling.alias,
    });
  });

  it('writes an ESM bundle with the require shim and a source map, and rebuilds only when a source changed', async () => {
    const repoRoot = join(workDir, 'repo');
    mkdirSync(join(repoRoot, 'src'), { recursive: true });
    writeFileSync(join(repoRoot, 'src', 'greeting.ts'), "export const greeting = 'hello';\n");
    writeFileSync(
      join(repoRoot, 'src', 'handler.ts'),
      "import { greeting } from './greeting.js';\nexport const handler = async () => greeting;\n",
    );
    const request = { entry: 'src/handler.ts', outfile: join(workDir, 'out', 'fn', 'index.mjs'), repoRoot };

    const first = await buildLambda(request);
    expect(first.rebuilt).toBe(true);
    const code = readFileSync(request.outfile, 'utf8');
    expect(code.startsWith(lambdaBundling.banner)).toBe(true);
    expect(code).toContain('sourceMappingURL=index.mjs.map');
    expect(existsSync(`${request.outfile}.map`)).toBe(true);
    const bundled = (await import(`${request.outfile}?first`)) as { handler: () => Promise<string> };
    expect(await bundled.handler()).toBe('hello');

    expect((await buildLambda(request)).rebuilt).toBe(false);

    // A change to a file the entry imports (not only the entry itself) makes the bundle stale.
    writeFileSync(join(repoRoot, 'src', 'greeting.ts'), "export const greeting = 'bonjour';\n");
    expect((await buildLambda(request)).rebuilt).toBe(true);
    const rebuilt = (await import(`${request.outfile}?second`)) as { handler: () => Promise<string> };
    expect(await rebuilt.handler()).toBe('bonjour');
  });

  it('fails with the compiler error when the source does not build', async () => {
    const repoRoot = join(workDir, 'broken');
    mkdirSync(repoRoot, { recursive: true });
    writeFileSync(
      join(repoRoot, 'handler.ts'),
      "import { missing } from './nowhere.js';\nexport const handler = missing;\n",
    );
    await expect(
      buildLambda({ entry: 'handler.ts', outfile: join(workDir, 'out', 'broken', 'index.mjs'), repoRoot }),
    ).rejects.toThrow(/Could not resolve "\.\/nowhere\.js"/);
  });
});

describe("the project's own handlers", () => {
  let workDir: string;
  let runtime: LocalLambdaRuntime;

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'local-lambda-project-'));
    const getOrder = tireOrdersService.functions.getOrder;
    runtime = new LocalLambdaRuntime({
      company: tireOrdersService.name,
      buildDir: join(workDir, 'build'),
      logSink: () => {},
      functions: [
        {
          name: 'getOrder',
          entry: getOrder.entry,
          timeoutSeconds: getOrder.timeoutSeconds,
          memoryMb: getOrder.memoryMb,
          environment: {
            ...tireOrdersEnvironment({
              tireOrdersTableName: 'tire-orders',
              eventBusName: 'tire-orders',
              fulfilmentDelaySeconds: 5,
              partnerRecordPath: '/local/tire-orders/partners/',
            }),
            // Any AWS call goes to a closed loopback port, never to AWS.
            AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
            AWS_ACCESS_KEY_ID: 'local-test',
            AWS_SECRET_ACCESS_KEY: 'local-test',
          },
        },
      ],
    });
  });

  afterAll(async () => {
    await runtime?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('bundles tire-orders getOrder with lambdaBundling and runs it', async () => {
    const [built] = await runtime.build();
    expect(built?.rebuilt).toBe(true);
    // No authorizer claims: the handler refuses before touching any table.
    const result = await runtime.invoke('getOrder', {
      httpMethod: 'GET',
      resource: '/orders/{id}',
      path: '/orders/order-1',
      pathParameters: { id: 'order-1' },
      headers: {},
      requestContext: { requestId: 'request-1' },
    });
    expect(result.outcome).toBe('ok');
    if (result.outcome !== 'ok') return;
    expect(result.payload).toMatchObject({
      statusCode: 401,
      headers: expect.objectContaining({ 'Content-Type': expect.stringContaining('application/problem+json') }),
    });
  });

  it('leaves classic zod and the SDK default credential chain out of a bundle', async () => {
    const options = lambdaEsbuildOptions({
      entry: carOrdersService.functions.createOrder.entry,
      outfile: join(workDir, 'inspect', 'index.mjs'),
      repoRoot: join(import.meta.dirname, '../../..'),
    });
    const { metafile } = await build({ ...options, write: false });
    const inputs = Object.keys(metafile?.inputs ?? {});
    expect(inputs.some((input) => input.includes('node_modules/zod/v4/mini/'))).toBe(true);
    expect(
      inputs.filter((input) => /zod\/v4\/classic\/|credential-provider-(node|ini|sso)\/|nested-clients\//.test(input)),
    ).toEqual([]);
  });
});
