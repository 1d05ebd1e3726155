import { randomUUID } from 'node:crypto';
import { DescribeArchiveCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.js';
import { carMakerCredentials, customerToken, sdkConfig } from './support/credentials.js';
import { call, closeAgents } from './support/http.js';
import {
  bootRuntime,
  showLogsIfFailed,
  freePorts,
  newStateDir,
  removeStateDirs,
  type E2eRuntime,
} from './support/runtime.js';

/**
 * Stop the platform and start it again on the same state directory: the orders, the customer's credentials, the
 * idempotency records, the API key and the event archive are all still there, and work goes on where it stopped.
 * The authorization servers come back on the same ports, since their issuer includes the port.
 */
describe('end to end: restart on the same state directory', () => {
  const running: E2eRuntime[] = [];

  afterEach((context) => showLogsIfFailed(context, ...running));

  afterAll(async () => {
    for (const e2e of running) await e2e.stop();
    await closeAgents();
    removeStateDirs();
  });

  async function archiveEventCount(runtime: LocalRuntime): Promise<number | undefined> {
    const client = new EventBridgeClient(sdkConfig(runtime));
    try {
      const archive = await client.send(new DescribeArchiveCommand({ ArchiveName: runtime.description.names.archive }));
      return archive.EventCount;
    } finally {
      client.destroy();
    }
  }

  it('keeps orders, credentials, idempotency and the archive, and carries on', { timeout: 60_000 }, async () => {
    const stateDir = newStateDir();
    const [carAuth, tireAuth] = await freePorts(2);
    const boot = async () => {
      const e2e = await bootRuntime({
        stateDir,
        ports: { carAuth, tireAuth },
        schedules: false,
        fulfilmentDelaySeconds: 0,
      });
      running.push(e2e);
      return e2e;
    };

    // Before: one order completed (its event archived), one still waiting for the supplier's fulfilment.
    const before = await boot();
    const first = before.runtime;
    const tokenBefore = await customerToken(first);
    const completedKey = randomUUID();
    const completed = await call(`${first.description.carApiUrl}/orders`, {
      token: tokenBefore,
      body: { carType: 'roadster', quantity: 4 },
      idempotencyKey: completedKey,
    });
    expect(completed.status, completed.text).toBe(201);
    const completedId = completed.json<{ id: string }>().id;
    await first.tire.scheduler.runNow('FulfilTireOrders');
    await first.bridge.whenIdle();
    const waiting = await call(`${first.description.carApiUrl}/orders`, {
      token: tokenBefore,
      body: { carType: 'coupe', quantity: 2 },
    });
    expect(waiting.status, waiting.text).toBe(201);
    const waitingId = waiting.json<{ id: string }>().id;

    const read = async (runtime: LocalRuntime, token: string, id: string) => {
      const result = await call(`${runtime.description.carApiUrl}/orders/${id}`, { token });
      expect(result.status, result.text).toBe(200);
      return result.json();
    };
    const completedBefore = await read(first, tokenBefore, completedId);
    const waitingBefore = await read(first, tokenBefore, waitingId);
    expect(completedBefore).toMatchObject({ status: 'OrderCompleted' });
    expect(waitingBefore).toMatchObject({ status: 'TiresOrdered' });
    const archivedBefore = first.bridge.archivedEvents(first.description.names.archive);
    expect(archivedBefore).toHaveLength(1);
    expect(await archiveEventCount(first)).toBe(1);
    const carMakerBefore = await carMakerCredentials(first);
    const descriptionBefore = first.description;
    await before.stop();

    // After: the same state directory.
    const after = await boot();
    const second = after.runtime;
    expect(second.description.customer).toEqual(descriptionBefore.customer);
    expect(second.description.carIssuer).toBe(descriptionBefore.carIssuer);
    expect(await carMakerCredentials(second)).toMatchObject({
      clientId: carMakerBefore.clientId,
      apiKeyId: carMakerBefore.apiKeyId,
      apiKey: carMakerBefore.apiKey,
    });

    // The same customer credentials read the same orders, with a new token and with the one issued before.
    const tokenAfter = await customerToken(second);
    expect(await read(second, tokenAfter, completedId)).toEqual(completedBefore);
    expect(await read(second, tokenAfter, waitingId)).toEqual(waitingBefore);
    expect(await read(second, tokenBefore, completedId)).toEqual(completedBefore);

    // The idempotency record survived: the same key returns the first answer, not a second order.
    const repeated = await call(`${second.description.carApiUrl}/orders`, {
      token: tokenAfter,
      body: { carType: 'roadster', quantity: 4 },
      idempotencyKey: completedKey,
    });
    expect(repeated.status, repeated.text).toBe(201);
    expect(repeated.json<{ id: string }>().id).toBe(completedId);

    // The archive survived, as the bridge and EventBridge's DescribeArchive both report.
    expect(second.bridge.archivedEvents(second.description.names.archive)).toEqual(archivedBefore);
    expect(await archiveEventCount(second)).toBe(1);

    // And work carries on: the waiting order completes, and its event joins the archive.
    await second.tire.scheduler.runNow('FulfilTireOrders');
    await second.bridge.whenIdle();
    expect(await read(second, tokenAfter, waitingId)).toMatchObject({ status: 'OrderCompleted' });
    expect(await archiveEventCount(second)).toBe(2);
  });
});
