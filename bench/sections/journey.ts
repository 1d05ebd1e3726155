import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { percentile, runLoad } from '../support/load.js';
import type { BenchRuntime } from '../support/runtime.js';

/**
 * An order's whole journey: the customer's POST, the tire order, the supplier's fulfilment schedule, the
 * TireOrderCompleted event, the API destination's PATCH callback, until the car order is OrderCompleted. Measured
 * from the car order's own record: createdAt (set by createOrder) to updatedAt of its completion.
 */

export interface JourneyFigures {
  orders: number;
  completed: number;
  schedulePeriodMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface OrderRow {
  carType: string;
  status: string;
  createdAt: string;
  updatedAt?: string;
}

function ordersTable(runtime: BenchRuntime) {
  const d = runtime.description;
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: d.dynamodbEndpoint ?? d.awsEndpoint,
      region: d.region,
      credentials: d.awsCredentials,
    }),
  );
  return {
    async rows(prefix: string): Promise<OrderRow[]> {
      const rows: OrderRow[] = [];
      const input = {
        TableName: d.names.carOrdersTable,
        FilterExpression: 'begins_with(carType, :prefix)',
        ExpressionAttributeValues: { ':prefix': prefix },
      };
      for await (const page of paginateScan({ client }, input)) rows.push(...((page.Items ?? []) as OrderRow[]));
      return rows;
    },
    close: () => client.destroy(),
  };
}

/** Waits until every order whose carType starts with `prefix` is OrderCompleted (or the time is up). */
export async function waitForCompletions(
  runtime: BenchRuntime,
  prefix: string,
  timeoutMs: number,
): Promise<OrderRow[]> {
  const table = ordersTable(runtime);
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await table.rows(prefix);
      if (rows.every((row) => row.status === 'OrderCompleted') || Date.now() > deadline) return rows;
      await sleep(1_000);
    }
  } finally {
    table.close();
  }
}

export async function journey(
  runtime: BenchRuntime,
  orders: number,
  schedulePeriodMs: number,
): Promise<JourneyFigures> {
  const token = await runtime.customerToken();
  const url = new URL(runtime.description.carApiUrl);
  await runLoad({
    origin: url.origin,
    path: `${url.pathname}/orders`,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ carType: 'journey-{i}', quantity: 4 }),
    concurrency: 2,
    durationMs: 120_000,
    maxRequests: orders,
    expectedStatus: 201,
  });
  const rows = await waitForCompletions(runtime, 'journey-', 90_000);
  const durations = rows
    .filter((row) => row.status === 'OrderCompleted' && row.updatedAt)
    .map((row) => Date.parse(row.updatedAt!) - Date.parse(row.createdAt))
    .sort((a, b) => a - b);
  return {
    orders: rows.length,
    completed: durations.length,
    schedulePeriodMs,
    p50Ms: percentile(durations, 50),
    p99Ms: percentile(durations, 99),
    maxMs: durations.at(-1) ?? Number.NaN,
  };
}
