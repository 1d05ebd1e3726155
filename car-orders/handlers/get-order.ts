import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { callerOf } from '../../shared/auth/caller.js';
import { dynamoDbClient } from '../../shared/aws/dynamodb-client.js';
import { httpHandler } from '../../shared/http/handler.js';
import { HttpError } from '../../shared/http/problem.js';
import { jsonResponse } from '../../shared/http/response.js';
import { readEnvironment } from '../adapters/environment.js';
import { carOrderIdOf } from '../adapters/http-request.js';
import { OrdersTable } from '../adapters/orders-table.js';
import { powertools } from '../adapters/powertools.js';
import { carOrderView, isVisibleTo } from '../domain/car-order.js';

const env = readEnvironment(['ORDERS_TABLE_NAME']);
const orders = new OrdersTable(DynamoDBDocumentClient.from(dynamoDbClient()), env.ORDERS_TABLE_NAME);

export const handler = httpHandler(powertools, async (event) => {
  const { clientId } = callerOf(event);
  const id = carOrderIdOf(event);
  const order = await orders.get(id);
  // Another client's order gets the same 404 as a missing one: its existence is not disclosed.
  if (!isVisibleTo(order, clientId)) throw new HttpError(404, `Car order ${id} not found`);
  return jsonResponse(200, carOrderView(order));
});
