import { describe, expect, it } from 'vitest';
import type { TimedAuditEntry } from '../../client/audit.js';
import { deliveryRows, localLatencyP95, p95, refusalRows } from '../activity.js';
import { orderStateOf } from '../views.js';

/** What the console makes of the local audit log: deliveries with the callback's latency, refusals by layer. */

const request = (over: Partial<Extract<TimedAuditEntry, { kind: 'request' }>>): TimedAuditEntry => ({
  kind: 'request',
  time: '2026-05-01T10:00:00.000Z',
  company: 'car-orders',
  sourceIp: '127.0.0.3',
  method: 'PATCH',
  path: '/local/orders/c-1',
  status: 204,
  decidedBy: 'integration',
  requestId: 'r-1',
  correlationId: 'corr-1',
  latencyMs: 42,
  ...over,
});

describe('console activity', () => {
  it("pairs a delivery with the car API's answer to it (latency, car order), not with an earlier one", () => {
    const rows = deliveryRows(
      [
        request({}),
        {
          kind: 'delivery',
          time: '2026-05-01T10:00:00.050Z',
          rule: 'r',
          eventId: 'e-1',
          attempt: 1,
          url: 'u',
          status: 204,
          outcome: 'delivered',
          correlationId: 'corr-1',
        },
        {
          kind: 'delivery',
          time: '2026-05-01T10:00:01.000Z',
          rule: 'r',
          eventId: 'e-2',
          attempt: 1,
          url: 'u',
          outcome: 'dead-lettered',
          error: 'token refused',
          correlationId: 'corr-1',
        },
      ],
      10,
    );
    expect(rows).toEqual([
      expect.objectContaining({ eventId: 'e-2', outcome: 'dead-lettered', error: 'token refused' }),
      expect.objectContaining({ eventId: 'e-1', carOrderId: 'c-1', status: 204, latencyMs: 42 }),
    ]);
    expect(rows[0]).not.toHaveProperty('latencyMs');
  });

  it("lists the gateways' refusals by layer with the problem detail, never the integration's own answers", () => {
    const rows = refusalRows(
      [
        request({ status: 404, decidedBy: 'integration' }),
        request({
          method: 'POST',
          path: '/local/orders',
          status: 403,
          decidedBy: 'waf',
          claimedClientId: 'c-x',
          problem: 'Forbidden',
        }),
        {
          kind: 'token',
          time: '2026-05-01T10:00:02.000Z',
          company: 'car-orders',
          outcome: 'refused',
          error: 'invalid_scope',
          sourceIp: '127.0.0.3',
        },
        {
          kind: 'refused',
          time: '2026-05-01T10:00:03.000Z',
          listener: 'console',
          reason: 'origin',
          status: 403,
          sourceIp: '127.0.0.1',
          origin: 'http://evil.example',
        },
      ],
      10,
    );
    expect(rows.map((r) => [r.layer, r.status, r.problem])).toEqual([
      ['listener (origin)', 403, 'Origin http://evil.example'],
      ['token endpoint', 400, 'invalid_scope'],
      ['waf', 403, 'Forbidden'],
    ]);
    expect(rows[2]).toMatchObject({ claimedClientId: 'c-x', sourceIp: '127.0.0.3' });
  });

  it('computes p95 by nearest rank, per API and 5-minute bucket', () => {
    expect(p95([])).toBeNull();
    expect(p95(Array.from({ length: 100 }, (_, i) => i + 1))).toBe(95);
    const from = Date.parse('2026-05-01T10:00:00.000Z');
    const series = localLatencyP95(
      [request({ latencyMs: 7 }), request({ time: '2026-05-01T10:06:00.000Z', company: 'tire-orders', latencyMs: 9 })],
      from,
      from + 3_600_000,
      12,
    );
    expect(series).toEqual([
      { api: 'car-orders', points: [7, ...Array(11).fill(null)] },
      { api: 'tire-orders', points: [null, 9, ...Array(10).fill(null)] },
    ]);
  });

  it('puts a given-up order under failed whatever its status', () => {
    expect(orderStateOf({ id: 'a', status: 'OrderSubmitted', workState: 'TIRE_ORDER_FAILED' })).toBe('failed');
    expect(orderStateOf({ id: 'b', status: 'OrderSubmitted', workState: 'AWAITING_TIRE_ORDER' })).toBe('submitted');
    expect(orderStateOf({ id: 'c', status: 'TiresOrdered' })).toBe('tiresOrdered');
    expect(orderStateOf({ id: 'd', status: 'OrderCompleted' })).toBe('completed');
  });
});
