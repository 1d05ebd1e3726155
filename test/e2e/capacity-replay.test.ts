import { DescribeReplayCommand, EventBridgeClient, StartReplayCommand } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { archiveArn, eventBusArn } from '../../local/aws/eventbridge/model.js';
import { throttleStep } from '../../local/gateway/steps/throttle.js';
import type { GatewayRequest, StepConfig } from '../../local/gateway/steps/step.js';
import { wafStep } from '../../local/gateway/steps/waf.js';
import { DEFAULT_CAPACITY, DEFAULT_LIMITS, peakTraffic } from '../../shared/capacity.js';
import { COMPLETION_CALLBACK } from '../../shared/contracts.js';
import { entriesOf } from './support/audit.js';
import { customerToken, sdkConfig } from './support/credentials.js';
import { call, closeAgents } from './support/http.js';
import { bootRuntime, removeStateDirs, showLogsIfFailed, type E2eRuntime } from './support/runtime.js';

/**
 * The capacity declaration's promise on the car side, on the local runtime with its derived limits: an operator's
 * replay of the archive reaches the car maker at the API destination's full rate (the worst a backlog can do) and
 * passes the car API's WAF rate rule and stage throttle with 0 dead letters.
 *
 * Why a bounded sample stands for a full day. The destination spaces invocations at r = 20/s (derived: 10 orders/s
 * x headroom 2), so callbacks arrive at <= r in every second and <= 300 r = 6,000 in every 5-minute WAF window,
 * whatever the length of the replay. Neither limit has memory beyond its window: the stage's token bucket (80/s,
 * burst 160) refills faster than r drains it, so its level never falls after the first request, and the WAF rule
 * forgets everything older than 300 s. So a day (86,400 s, 1,728,000 callbacks at r; 288 windows) is the same
 * second and the same window repeated: if one window of traffic at r passes, every window of the day passes.
 * Over HTTP the sample is N = 60 callbacks at r (>= 3 s of the destination's spacing, with the runtime's time
 * scale for retries); then the gateway's own WAF and throttle steps, with the runtime's options and an injected
 * clock, are driven through the full day at r from the supplier's egress, next to one customer at the whole peak
 * from one address: 0 refusals. Together: the real path at r, and every window of the day at r.
 */

const ORDERS = 60;
const DAY_SECONDS = 86_400;

describe('capacity: an archive replayed at the destination rate through the car-side limits', () => {
  let e2e: E2eRuntime;

  beforeAll(async () => {
    e2e = await bootRuntime({ schedules: false, fulfilmentDelaySeconds: 0, timeScale: 0.01 });
  });

  afterEach((context) => showLogsIfFailed(context, e2e));

  afterAll(async () => {
    await e2e?.stop();
    await closeAgents();
    removeStateDirs();
  });

  it(
    `replays ${ORDERS} completions at the destination's rate: all delivered, 0 dead letters, no WAF or throttle refusal`,
    { timeout: 120_000 },
    async () => {
      const { runtime } = e2e;
      const { carApiUrl, names, egress } = runtime.description;
      const rate = DEFAULT_LIMITS.completionCallback.invocationRateLimitPerSecond;
      expect(rate).toBe(20);

      // The archive: ORDERS orders completed once (the live deliveries), from one customer address.
      const windowStart = Date.now() - 1000;
      const token = await customerToken(runtime);
      for (let batch = 0; batch < ORDERS; batch += 10) {
        const created = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            call(`${carApiUrl}/orders`, { token, body: { carType: `replay-${batch + i}` } }),
          ),
        );
        expect(created.map((response) => response.status)).toEqual(Array(10).fill(201));
      }
      expect(await runtime.tire.scheduler.runNow('FulfilTireOrders')).toEqual({ outcome: 'ok' });
      await runtime.bridge.whenIdle();

      const events = new EventBridgeClient(sdkConfig(runtime));
      const sqs = new SQSClient(sdkConfig(runtime));
      try {
        const replayName = `capacity-${Date.now()}`;
        const replayStartedAt = Date.now();
        await events.send(
          new StartReplayCommand({
            ReplayName: replayName,
            EventSourceArn: archiveArn(names.archive),
            EventStartTime: new Date(windowStart),
            EventEndTime: new Date(Date.now() + 1000),
            Destination: { Arn: eventBusArn(names.eventBus) },
          }),
        );
        await runtime.bridge.whenIdle();
        expect((await events.send(new DescribeReplayCommand({ ReplayName: replayName }))).State).toBe('COMPLETED');

        const replayed = entriesOf(runtime, 'delivery').filter((entry) => entry.replayName === replayName);
        expect(replayed).toHaveLength(ORDERS);
        // Each one delivered at its first attempt: nothing was refused, retried or dead-lettered.
        expect(replayed.every((entry) => entry.outcome === 'delivered' && entry.attempt === 1)).toBe(true);
        const fromSupplier = entriesOf(runtime, 'request').filter(
          (entry) => entry.company === 'car-orders' && entry.sourceIp === egress.supplierEvents,
        );
        // The destination spaced the calls at its rate: the N replayed callbacks arrived over at least (N - 1) / rate.
        // Arrival = when the request was answered minus its latency (a delivery is logged when it ends, and the
        // first calls' latency is larger, so end times would understate the spacing the limiter applied to starts).
        const arrivals = fromSupplier
          .filter((entry) => entry.method === 'PATCH' && Date.parse(entry.time) >= replayStartedAt)
          .map((entry) => Date.parse(entry.time) - entry.latencyMs);
        expect(arrivals).toHaveLength(ORDERS);
        expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeGreaterThanOrEqual(((ORDERS - 1) / rate) * 1000 - 50);
        expect(fromSupplier.length).toBeGreaterThanOrEqual(2 * ORDERS);
        expect(
          fromSupplier.filter((entry) => entry.decidedBy === 'waf' || entry.decidedBy === 'stage-throttle'),
        ).toEqual([]);

        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: names.callbackDlq }));
        const depth = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
        );
        expect(depth.Attributes?.ApproximateNumberOfMessages).toBe('0');
      } finally {
        events.destroy();
        sqs.destroy();
      }
    },
  );

  it("a simulated day through the runtime's own WAF and stage-throttle steps: callbacks at the destination rate and one customer at the whole peak, 0 refusals", () => {
    const config: StepConfig = {
      options: e2e.runtime.car.gatewayOptions,
      apiId: 'car',
      accountId: '000000000000',
      region: 'us-east-1',
    };
    const waf = wafStep(config)!;
    const throttle = throttleStep(config);
    expect(config.options.service.wafRateLimitPer5Minutes).toBe(DEFAULT_LIMITS.car.wafRateLimitPer5Minutes);

    const callback = { method: COMPLETION_CALLBACK.httpMethod, path: COMPLETION_CALLBACK.routePath };
    const customerRps = peakTraffic(DEFAULT_CAPACITY).customerRequestsPerSecond;
    const sources = [
      {
        ip: e2e.runtime.description.egress.supplierEvents,
        perSecond: DEFAULT_LIMITS.completionCallback.invocationRateLimitPerSecond,
        route: callback,
      },
      { ip: '198.51.100.7', perSecond: customerRps, route: { method: 'POST', path: '/orders' } },
    ];
    const start = Date.UTC(2030, 0, 1);
    const refusals: string[] = [];
    let requests = 0;
    for (let second = 0; second < DAY_SECONDS; second += 1) {
      for (const source of sources) {
        for (let i = 0; i < source.perSecond; i += 1) {
          // Evenly spaced within the second, as the destination spaces its invocations.
          const now = start + second * 1000 + Math.floor((i * 1000) / source.perSecond);
          const request = {
            sourceIp: source.ip,
            now,
            route: { match: { route: source.route } },
          } as unknown as GatewayRequest;
          const outcome = waf.run(request) ?? throttle.run(request);
          requests += 1;
          if (outcome !== undefined) refusals.push(`${source.ip} at ${second} s: ${JSON.stringify(outcome)}`);
        }
      }
      if (refusals.length > 0) break;
    }
    expect(refusals.slice(0, 3)).toEqual([]);
    expect(requests).toBe(DAY_SECONDS * (20 + customerRps));
  });
});
