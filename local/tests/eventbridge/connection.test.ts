import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../audit.js';
import { ApiDestinationInvoker } from '../../aws/eventbridge/api-destination.js';
import { LocalEventBridge } from '../../aws/eventbridge/bus.js';
import { createEventBridgeService } from '../../aws/eventbridge/service.js';
import { AwsServiceError } from '../../aws/protocol.js';
import { memoryDeadLetterQueue, startRecordingServer, temporaryDirectory, type RecordingServer } from './helpers.js';

/**
 * A connection's authorization as EventBridge documents it ("Connection states", "Updating connections"): it is
 * AUTHORIZED once the token endpoint issued a token with its client credentials, DEAUTHORIZED when the endpoint
 * refuses them; UpdateConnection answers AUTHORIZING and re-authorizes with the new credentials, whose tokens the
 * deliveries then carry. A token endpoint that accepts only the secrets in `accepted` stands in for Cognito.
 */

const accepted = new Set(['old-secret']);
/** How the token endpoint refuses a secret: 400 as Cognito documents, or 401 as RFC 6749 5.2 allows. */
let refusalStatus = 400;
let tokenServer: RecordingServer;
let api: RecordingServer;
const event = { id: 'e-1', source: 'tire-orders', 'detail-type': 'TireOrderCompleted', detail: { carOrderId: 'c-1' } };

beforeAll(async () => {
  let issued = 0;
  tokenServer = await startRecordingServer((request) => {
    const [, secret] = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':');
    if (!accepted.has(decodeURIComponent(secret ?? '')))
      return { status: refusalStatus, body: '{"error":"invalid_client"}' };
    return { status: 200, body: JSON.stringify({ access_token: `token-${secret}-${++issued}`, expires_in: 3600 }) };
  });
  api = await startRecordingServer(() => ({ status: 204 }));
});

afterAll(async () => {
  await tokenServer.close();
  await api.close();
});

function invoker(clientSecret = 'old-secret'): ApiDestinationInvoker {
  return new ApiDestinationInvoker(
    {
      name: 'CarMakerCallback',
      endpoint: `${api.url}/orders`,
      httpMethod: 'PATCH',
      connection: { authorizationEndpoint: `${tokenServer.url}/oauth2/token`, clientId: 'callback', clientSecret },
    },
    { timeoutMs: 5_000 },
  );
}

describe('connection state machine', () => {
  it('is AUTHORIZING until its first token, then AUTHORIZED', async () => {
    const connection = invoker();
    expect(connection.describeConnection().state).toBe('AUTHORIZING');
    expect((await connection.invoke(event)).ok).toBe(true);
    expect(connection.describeConnection()).toMatchObject({ state: 'AUTHORIZED', clientId: 'callback' });
    expect(connection.describeConnection().lastAuthorizedTime).toBeTypeOf('number');
    await connection.close();
  });

  // EventBridge de-authorizes a connection when it "cannot refresh the necessary OAuth token" (De-authorizing
  // connections); the guide names no status, so any refusal does: Cognito's 400 and an RFC 6749 server's 401 alike.
  it.each([400, 401])(
    'is DEAUTHORIZED when the token endpoint refuses its credentials with %i, and deliveries fail',
    async (status) => {
      refusalStatus = status;
      const connection = invoker('deleted-secret');
      const outcome = await connection.invoke(event);
      expect(outcome).toMatchObject({ ok: false, retryable: false });
      expect(connection.describeConnection()).toMatchObject({ state: 'DEAUTHORIZED' });
      expect(connection.describeConnection().stateReason).toContain(`${status} (invalid_client)`);
      await connection.close();
      refusalStatus = 400;
    },
  );

  it('UpdateConnection with a new secret: AUTHORIZING at once, AUTHORIZED with it, and deliveries carry its token', async () => {
    const connection = invoker();
    await connection.invoke(event);
    accepted.add('new-secret');
    expect(connection.updateConnection({ clientSecret: 'new-secret' }).state).toBe('AUTHORIZING');
    expect((await connection.authorized()).state).toBe('AUTHORIZED');
    // The old secret goes; the connection does not need it any more.
    accepted.delete('old-secret');
    expect((await connection.invoke(event)).ok).toBe(true);
    expect(api.requests.at(-1)!.headers.authorization).toMatch(/^Bearer token-new-secret-/);
    accepted.add('old-secret');
    accepted.delete('new-secret');
    await connection.close();
  });

  it('UpdateConnection with a secret the endpoint refuses ends DEAUTHORIZED (the operator must not delete the old one)', async () => {
    const connection = invoker();
    await connection.invoke(event);
    connection.updateConnection({ clientSecret: 'mistyped-secret' });
    expect(await connection.authorized()).toMatchObject({ state: 'DEAUTHORIZED' });
    // Updating it back re-authorizes it.
    connection.updateConnection({ clientSecret: 'old-secret' });
    expect((await connection.authorized()).state).toBe('AUTHORIZED');
    await connection.close();
  });
});

describe('EventBridge connection operations', () => {
  const dir = temporaryDirectory();
  let bridge: LocalEventBridge;
  const operations = () => createEventBridgeService(bridge).operations;
  const context = { origin: 'http://127.0.0.1', requestId: 'r-1' };

  beforeAll(() => {
    bridge = new LocalEventBridge({ stateDir: dir.path, audit: new AuditLog(join(dir.path, 'audit.jsonl')) });
    bridge.createEventBus('tire-orders');
    bridge.putRule({
      name: 'TireOrderCompletedToCarMaker',
      eventBusName: 'tire-orders',
      eventPattern: { source: ['tire-orders'] },
      targets: [
        {
          kind: 'apiDestination',
          id: 'CarMakerCallback',
          name: 'dev-car-maker-callback',
          endpoint: `${api.url}/orders`,
          httpMethod: 'PATCH',
          connection: {
            authorizationEndpoint: `${tokenServer.url}/oauth2/token`,
            clientId: 'callback',
            clientSecret: 'old-secret',
          },
          deadLetter: memoryDeadLetterQueue(),
        },
      ],
    });
  });

  afterAll(async () => {
    await bridge.close();
    dir.remove();
  });

  it('DescribeApiDestination names the connection; DescribeConnection shows its client id, never its secret', async () => {
    const destination = (await operations().DescribeApiDestination!({ Name: 'dev-car-maker-callback' }, context)) as {
      ConnectionArn: string;
    };
    expect(destination.ConnectionArn).toMatch(/:connection\/dev-car-maker-callback-connection\/[-a-f0-9]+$/);
    const described = await operations().DescribeConnection!({ Name: 'dev-car-maker-callback-connection' }, context);
    expect(described).toMatchObject({
      Name: 'dev-car-maker-callback-connection',
      AuthorizationType: 'OAUTH_CLIENT_CREDENTIALS',
      AuthParameters: { OAuthParameters: { ClientParameters: { ClientID: 'callback' } } },
    });
    expect(JSON.stringify(described)).not.toContain('old-secret');
  });

  it('UpdateConnection answers AUTHORIZING; DescribeConnection then shows AUTHORIZED', async () => {
    accepted.add('rotated-secret');
    const update = {
      Name: 'dev-car-maker-callback-connection',
      AuthorizationType: 'OAUTH_CLIENT_CREDENTIALS',
      AuthParameters: {
        OAuthParameters: { ClientParameters: { ClientID: 'callback', ClientSecret: 'rotated-secret' } },
      },
    };
    expect(await operations().UpdateConnection!(update, context)).toMatchObject({ ConnectionState: 'AUTHORIZING' });
    await bridge.connection('dev-car-maker-callback-connection').authorized();
    const described = (await operations().DescribeConnection!(
      { Name: 'dev-car-maker-callback-connection' },
      context,
    )) as {
      ConnectionState: string;
    };
    expect(described.ConnectionState).toBe('AUTHORIZED');
  });

  it('refuses an unknown connection (ResourceNotFoundException) and changes it cannot make (ValidationException)', async () => {
    await expect(
      Promise.resolve().then(() => operations().DescribeConnection!({ Name: 'nope' }, context)),
    ).rejects.toMatchObject({ type: 'ResourceNotFoundException' });
    const endpointChange = {
      Name: 'dev-car-maker-callback-connection',
      AuthParameters: { OAuthParameters: { AuthorizationEndpoint: 'https://elsewhere.example/token' } },
    };
    await expect(
      Promise.resolve().then(() => operations().UpdateConnection!(endpointChange, context)),
    ).rejects.toBeInstanceOf(AwsServiceError);
  });
});
