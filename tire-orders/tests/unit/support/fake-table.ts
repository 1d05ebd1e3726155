import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type GetCommandInput,
  type PutCommandInput,
  type QueryCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';

type Item = Record<string, unknown>;
type Names = Record<string, string> | undefined;
type Values = Record<string, unknown> | undefined;

/**
 * An in-memory tire orders table behind the mocked DocumentClient, so handler tests see DynamoDB's behaviour
 * (conditional writes, a sparse GSI paged with LastEvaluatedKey) rather than canned answers. It evaluates the
 * small expression language the store uses: `#a = :v`, `#a <= :v`, `attribute_not_exists(#a)` joined by AND,
 * and `SET #a = :v, ...` / `REMOVE #a, ...` updates; anything else throws, so a changed expression is noticed.
 */
export class FakeTireOrdersTable {
  readonly items = new Map<string, Item>();
  /**
   * Most items a query returns per page, whatever its Limit: DynamoDB may return fewer items than Limit (1 MB
   * pages), and a small page forces the caller through LastEvaluatedKey.
   */
  queryPageSize = 3;
  /** Called before an update is evaluated: lets a test play another writer racing the handler. */
  beforeUpdate?: (id: string) => void;

  constructor(readonly tableName: string) {}

  attach(ddb: AwsClientStub<DynamoDBDocumentClient>): this {
    ddb.on(PutCommand).callsFake((input: PutCommandInput) => this.put(input));
    ddb.on(GetCommand).callsFake((input: GetCommandInput) => this.get(input));
    ddb.on(QueryCommand).callsFake((input: QueryCommandInput) => this.query(input));
    ddb.on(UpdateCommand).callsFake((input: UpdateCommandInput) => this.update(input));
    return this;
  }

  seed(...items: object[]): void {
    for (const item of items as Item[]) this.items.set(String(item.id), structuredClone(item));
  }

  item(id: string): Item | undefined {
    return this.items.get(id);
  }

  private checkTable(name: string | undefined): void {
    if (name !== this.tableName) throw new Error(`Unexpected table '${name}'`);
  }

  private put(input: PutCommandInput) {
    this.checkTable(input.TableName);
    const item = input.Item as Item;
    const existing = this.items.get(String(item.id));
    if (input.ConditionExpression !== undefined) {
      assertCondition(input.ConditionExpression, existing, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    }
    this.items.set(String(item.id), structuredClone(item));
    return {};
  }

  private get(input: GetCommandInput) {
    this.checkTable(input.TableName);
    const item = this.items.get(String(input.Key?.id));
    return item === undefined ? {} : { Item: structuredClone(item) };
  }

  private query(input: QueryCommandInput) {
    this.checkTable(input.TableName);
    if (input.IndexName !== 'byWorkState') throw new Error(`Unexpected index '${input.IndexName}'`);
    const conditions = parseConditions(input.KeyConditionExpression!, input.ExpressionAttributeNames);
    const matching = [...this.items.values()]
      .filter((item) => item.workState !== undefined && item.dueAt !== undefined) // sparse index
      .filter((item) => conditions.every((c) => holds(c, item, input.ExpressionAttributeValues)))
      .sort((a, b) => compareIndexKeys(a, b));
    const start = input.ExclusiveStartKey;
    const rest = start === undefined ? matching : matching.filter((item) => compareIndexKeys(item, start) > 0);
    const pageSize = Math.min(this.queryPageSize, input.Limit ?? Number.POSITIVE_INFINITY);
    const page = rest.slice(0, pageSize);
    const last = page.at(-1);
    const more = rest.length > page.length && last !== undefined;
    return {
      Items: page.map((item) => structuredClone(item)),
      Count: page.length,
      ...(more ? { LastEvaluatedKey: { id: last.id, workState: last.workState, dueAt: last.dueAt } } : {}),
    };
  }

  private update(input: UpdateCommandInput) {
    this.checkTable(input.TableName);
    const id = String(input.Key?.id);
    this.beforeUpdate?.(id);
    const existing = this.items.get(id);
    if (input.ConditionExpression !== undefined) {
      assertCondition(input.ConditionExpression, existing, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    }
    const item: Item = structuredClone(existing ?? { id });
    for (const clause of input.UpdateExpression!.match(/(SET|REMOVE) [^]*?(?= SET | REMOVE |$)/g) ?? []) {
      const [verb, ...body] = clause.split(' ');
      for (const action of body.join(' ').split(',').map((a) => a.trim())) {
        if (verb === 'REMOVE') {
          delete item[nameOf(action, input.ExpressionAttributeNames)];
        } else {
          const [path, value] = action.split('=').map((s) => s.trim());
          item[nameOf(path!, input.ExpressionAttributeNames)] = valueOf(value!, input.ExpressionAttributeValues);
        }
      }
    }
    this.items.set(id, item);
    return {};
  }
}

interface Condition {
  kind: 'eq' | 'le' | 'not_exists';
  attribute: string;
  value?: string;
}

function nameOf(token: string, names: Names): string {
  if (!token.startsWith('#')) return token;
  const name = names?.[token];
  if (name === undefined) throw new Error(`Undefined attribute name ${token}`);
  return name;
}

function valueOf(token: string, values: Values): unknown {
  if (!token.startsWith(':') || values === undefined || !(token in values)) {
    throw new Error(`Undefined attribute value ${token}`);
  }
  return values[token];
}

function parseConditions(expression: string, names: Names): Condition[] {
  return expression.split(' AND ').map((part) => {
    const trimmed = part.trim();
    const notExists = /^attribute_not_exists\((\S+)\)$/.exec(trimmed);
    if (notExists) return { kind: 'not_exists', attribute: nameOf(notExists[1]!, names) };
    const comparison = /^(\S+) (=|<=) (:\w+)$/.exec(trimmed);
    if (comparison) {
      return { kind: comparison[2] === '=' ? 'eq' : 'le', attribute: nameOf(comparison[1]!, names), value: comparison[3] };
    }
    throw new Error(`Unsupported condition '${trimmed}'`);
  });
}

function holds(condition: Condition, item: Item | undefined, values: Values): boolean {
  const actual = item?.[condition.attribute];
  if (condition.kind === 'not_exists') return actual === undefined;
  if (actual === undefined) return false;
  const expected = valueOf(condition.value!, values) as string | number;
  return condition.kind === 'eq' ? actual === expected : (actual as string | number) <= expected;
}

function assertCondition(expression: string, item: Item | undefined, names: Names, values: Values): void {
  if (!parseConditions(expression, names).every((c) => holds(c, item, values))) {
    throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
  }
}

/** GSI order: by dueAt (the sort key), ties by the table key, as LastEvaluatedKey positions them. */
function compareIndexKeys(a: Item, b: Item): number {
  return compareBytes(String(a.dueAt), String(b.dueAt)) || compareBytes(String(a.id), String(b.id));
}

// DynamoDB orders string keys by their UTF-8 bytes, not by locale.
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
