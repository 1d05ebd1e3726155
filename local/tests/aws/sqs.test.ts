import { createHash } from 'node:crypto';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { md5OfMessageAttributes } from '../../aws/sqs.js';
import {
  makeStateDir,
  rawAwsRequest,
  removeStateDir,
  startLocalAws,
  TEST_CREDENTIALS,
  type RunningEndpoint,
} from './support.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('md5OfMessageAttributes', () => {
  // Reference digests published with the aws-md5-of-message-attributes package (computed by SQS).
  it('matches the digests SQS computes', () => {
    expect(md5OfMessageAttributes({ attribName1: { DataType: 'String', StringValue: 'attribValue 1' } })).toBe(
      '19e27d4e946b072f3f58da80d94fd778',
    );
    expect(
      md5OfMessageAttributes({
        customNumberTypeAttrib: { DataType: 'Number.float', StringValue: '4563442423554324324264524243.32543234' },
      }),
    ).toBe('9fe1b90bbd9965bdf77bac517c7d2495');
    expect(
      md5OfMessageAttributes({
        binaryAttribute: { DataType: 'Binary', BinaryValue: Buffer.from('Hello binary world!').toString('base64') },
      }),
    ).toBe('31a92b15d92f8db860eda32aceb656c3');
    expect(
      md5OfMessageAttributes({
        attribName1: { DataType: 'String', StringValue: 'attribValue 1' },
        customNumberTypeAttrib: { DataType: 'Number.float', StringValue: '4563442423554324324264524243.32543234' },
        binaryAttribute: { DataType: 'Binary', BinaryValue: Buffer.from('Hello binary world!').toString('base64') },
      }),
    ).toBe('c932db14a896c663f83c260297d594ff');
  });
});

describe('SQS over raw AWS JSON 1.0 requests', () => {
  let stateDir: string;
  let running: RunningEndpoint;
  let queueUrl: string;
  const call = (operation: string, body: unknown) => rawAwsRequest(running.endpoint, `AmazonSQS.${operation}`, body);

  beforeAll(async () => {
    stateDir = makeStateDir();
    running = await startLocalAws(stateDir);
    const created = await call('CreateQueue', {
      QueueName: 'events-dlq',
      Attributes: { VisibilityTimeout: '30' },
      tags: { purpose: 'dlq' },
    });
    queueUrl = created.json.QueueUrl as string;
  });

  afterAll(async () => {
    await running?.endpoint.close();
    removeStateDir(stateDir);
  });

  it('creates a queue at a URL on the endpoint origin, idempotently for equal attributes', async () => {
    expect(queueUrl).toBe(`${running.endpoint.url}/000000000000/events-dlq`);
    const again = await call('CreateQueue', { QueueName: 'events-dlq', Attributes: { VisibilityTimeout: '30' } });
    expect(again.status).toBe(200);
    expect(again.json.QueueUrl).toBe(queueUrl);
    expect(again.headers.get('content-type')).toBe('application/x-amz-json-1.0');

    const conflicting = await call('CreateQueue', { QueueName: 'events-dlq', Attributes: { VisibilityTimeout: '60' } });
    expect(conflicting.status).toBe(400);
    expect(conflicting.json.__type).toBe('com.amazonaws.sqs#QueueNameExists');
    expect(conflicting.headers.get('x-amzn-query-error')).toBe('QueueAlreadyExists;Sender');

    expect((await call('GetQueueUrl', { QueueName: 'events-dlq' })).json).toEqual({ QueueUrl: queueUrl });
    expect((await call('ListQueues', { QueueNamePrefix: 'events' })).json).toEqual({ QueueUrls: [queueUrl] });
  });

  it('answers QueueDoesNotExist with the qualified type and the query error header', async () => {
    const reply = await call('GetQueueUrl', { QueueName: 'missing' });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({
      __type: 'com.amazonaws.sqs#QueueDoesNotExist',
      message: 'The specified queue does not exist.',
    });
    expect(reply.headers.get('x-amzn-query-error')).toBe('AWS.SimpleQueueService.NonExistentQueue;Sender');
  });

  it('sends and receives a message with attributes, digests, system attributes and a visibility timeout', async () => {
    const body = JSON.stringify({ 'detail-type': 'TireOrderCompleted', detail: { orderId: 'o-1' } });
    const messageAttributes = {
      RULE_ARN: { DataType: 'String', StringValue: 'arn:aws:events:us-east-1:000000000000:rule/tire-orders/notify' },
      RETRY_ATTEMPTS: { DataType: 'Number', StringValue: '3' },
    };
    const sent = await call('SendMessage', {
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageAttributes: messageAttributes,
    });
    expect(sent.status).toBe(200);
    expect(sent.json.MD5OfMessageBody).toBe(md5(body));
    expect(sent.json.MD5OfMessageAttributes).toBe(md5OfMessageAttributes(messageAttributes));

    const received = await call('ReceiveMessage', {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 60,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['RULE_ARN'],
    });
    const messages = received.json.Messages as Record<string, unknown>[];
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message).toMatchObject({ MessageId: sent.json.MessageId, Body: body, MD5OfBody: md5(body) });
    expect(message?.MessageAttributes).toEqual({ RULE_ARN: messageAttributes.RULE_ARN });
    expect(message?.MD5OfMessageAttributes).toBe(md5OfMessageAttributes({ RULE_ARN: messageAttributes.RULE_ARN }));
    expect(message?.Attributes).toMatchObject({ SenderId: TEST_CREDENTIALS.accessKeyId, ApproximateReceiveCount: '1' });

    // In flight: not received again, counted as not visible.
    expect((await call('ReceiveMessage', { QueueUrl: queueUrl })).json).toEqual({});
    const counts = await call('GetQueueAttributes', {
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'QueueArn'],
    });
    expect(counts.json.Attributes).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '1',
      QueueArn: 'arn:aws:sqs:us-east-1:000000000000:events-dlq',
    });

    // Visibility 0 makes it receivable again, with a new receipt handle; the old handle no longer deletes it.
    const firstHandle = message?.ReceiptHandle as string;
    expect(
      (await call('ChangeMessageVisibility', { QueueUrl: queueUrl, ReceiptHandle: firstHandle, VisibilityTimeout: 0 }))
        .status,
    ).toBe(200);
    const again = await call('ReceiveMessage', { QueueUrl: queueUrl, AttributeNames: ['ApproximateReceiveCount'] });
    const second = (again.json.Messages as Record<string, unknown>[])[0];
    expect(second?.Attributes).toEqual({ ApproximateReceiveCount: '2' });
    expect(second?.ReceiptHandle).not.toBe(firstHandle);
    expect((await call('DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: firstHandle })).status).toBe(200);
    expect(running.sqs.queue('events-dlq').counts()).toEqual({ visible: 0, inFlight: 1, delayed: 0 });

    const stale = await call('ChangeMessageVisibility', {
      QueueUrl: queueUrl,
      ReceiptHandle: firstHandle,
      VisibilityTimeout: 5,
    });
    expect(stale.status).toBe(400);
    expect(stale.headers.get('x-amzn-query-error')).toBe('AWS.SimpleQueueService.MessageNotInflight;Sender');

    expect((await call('DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: second?.ReceiptHandle })).status).toBe(
      200,
    );
    expect(running.sqs.queue('events-dlq').counts()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('holds a delayed message back and counts it as delayed', async () => {
    await call('CreateQueue', { QueueName: 'delayed' });
    const url = `${running.endpoint.url}/000000000000/delayed`;
    await call('SendMessage', { QueueUrl: url, MessageBody: 'later', DelaySeconds: 900 });
    expect((await call('ReceiveMessage', { QueueUrl: url })).json).toEqual({});
    const attributes = await call('GetQueueAttributes', { QueueUrl: url, AttributeNames: ['All'] });
    expect(attributes.json.Attributes).toMatchObject({
      ApproximateNumberOfMessagesDelayed: '1',
      ApproximateNumberOfMessages: '0',
      VisibilityTimeout: '30',
    });
  });

  it('rejects bad input with 4xx errors and stores nothing', async () => {
    const before = running.sqs.queue('events-dlq').counts();
    const cases: [string, unknown, number, string][] = [
      ['SendMessage', { QueueUrl: queueUrl, MessageBody: '' }, 400, 'InvalidParameterValue'],
      ['SendMessage', { QueueUrl: queueUrl, MessageBody: 'bad \u0000 char' }, 400, 'InvalidMessageContents'],
      ['SendMessage', { QueueUrl: queueUrl, MessageBody: 'x', DelaySeconds: 901 }, 400, 'InvalidParameterValue'],
      [
        'SendMessage',
        {
          QueueUrl: queueUrl,
          MessageBody: 'x',
          MessageAttributes: { 'AWS.reserved': { DataType: 'String', StringValue: 'x' } },
        },
        400,
        'InvalidParameterValue',
      ],
      [
        'SendMessage',
        { QueueUrl: queueUrl, MessageBody: 'x', MessageAttributes: { n: { DataType: 'Number', StringValue: 'abc' } } },
        400,
        'InvalidParameterValue',
      ],
      ['SendMessage', { QueueUrl: queueUrl, MessageBody: 'x', MessageGroupId: 'g' }, 400, 'InvalidParameterValue'],
      ['SendMessage', { QueueUrl: 'not a url', MessageBody: 'x' }, 404, 'InvalidAddress'],
      ['ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: 11 }, 400, 'InvalidParameterValue'],
      ['DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: 'garbage' }, 404, 'ReceiptHandleIsInvalid'],
      ['CreateQueue', { QueueName: 'orders.fifo', Attributes: { FifoQueue: 'true' } }, 400, 'UnsupportedOperation'],
      ['CreateQueue', { QueueName: 'x', Attributes: { Colour: 'blue' } }, 400, 'InvalidAttributeName'],
      ['CreateQueue', { QueueName: 'x', Attributes: { VisibilityTimeout: '99999' } }, 400, 'InvalidAttributeValue'],
      ['CreateQueue', { QueueName: 'bad name' }, 400, 'InvalidParameterValue'],
    ];
    for (const [operation, body, status, type] of cases) {
      const reply = await call(operation, body);
      expect([reply.status, reply.json.__type], `${operation} ${JSON.stringify(body)}`).toEqual([
        status,
        `com.amazonaws.sqs#${type}`,
      ]);
    }
    expect(running.sqs.queue('events-dlq').counts()).toEqual(before);
    expect((await call('ListQueues', {})).json.QueueUrls).not.toContain(`${running.endpoint.url}/000000000000/x`);
  });

  it('purges a queue once per 60 seconds', async () => {
    await call('CreateQueue', { QueueName: 'purged' });
    const url = `${running.endpoint.url}/000000000000/purged`;
    await call('SendMessage', { QueueUrl: url, MessageBody: 'a' });
    await call('SendMessage', { QueueUrl: url, MessageBody: 'b' });
    expect((await call('PurgeQueue', { QueueUrl: url })).status).toBe(200);
    expect(running.sqs.queue('purged').counts()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    const second = await call('PurgeQueue', { QueueUrl: url });
    expect(second.status).toBe(403);
    expect(second.headers.get('x-amzn-query-error')).toBe('AWS.SimpleQueueService.PurgeQueueInProgress;Sender');
  });

  it('lists queues page by page when MaxResults is given', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) await call('CreateQueue', { QueueName: name });
    const first = await call('ListQueues', { QueueNamePrefix: 'page-', MaxResults: 2 });
    expect(first.json.QueueUrls).toHaveLength(2);
    const second = await call('ListQueues', {
      QueueNamePrefix: 'page-',
      MaxResults: 2,
      NextToken: first.json.NextToken,
    });
    expect(second.json.QueueUrls).toEqual([`${running.endpoint.url}/000000000000/page-c`]);
    expect(second.json.NextToken).toBeUndefined();
  });

  it('takes in-process sends (the local EventBridge dead-letter path) and serves them over HTTP', async () => {
    const dlq = running.sqs.ensureQueue('in-process-dlq');
    expect(running.sqs.queue(dlq.arn).name).toBe('in-process-dlq');
    const sent = dlq.send(
      '{"id":"event-1"}',
      { ERROR_CODE: { DataType: 'String', StringValue: 'SDK_CLIENT_ERROR' } },
      { senderId: 'events.amazonaws.com' },
    );
    expect(sent.MD5OfMessageBody).toBe(md5('{"id":"event-1"}'));
    const received = await call('ReceiveMessage', {
      QueueUrl: dlq.url(running.endpoint.url),
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['SenderId'],
    });
    expect(received.json.Messages).toEqual([
      expect.objectContaining({
        MessageId: sent.MessageId,
        Body: '{"id":"event-1"}',
        Attributes: { SenderId: 'events.amazonaws.com' },
        MessageAttributes: { ERROR_CODE: { DataType: 'String', StringValue: 'SDK_CLIENT_ERROR' } },
      }),
    ]);
    expect(() => running.sqs.queue('no-such-queue')).toThrow(/does not exist/);
    expect(() => dlq.send('')).toThrow();
  });
});

describe('SQS through @aws-sdk/client-sqs configured only by AWS_ENDPOINT_URL', () => {
  let stateDir: string;
  let running: RunningEndpoint;
  let sqs: SQSClient;
  const saved = process.env.AWS_ENDPOINT_URL;

  beforeAll(async () => {
    stateDir = makeStateDir();
    running = await startLocalAws(stateDir);
    running.sqs.ensureQueue('sdk-dlq');
    process.env.AWS_ENDPOINT_URL = running.endpoint.url;
    sqs = new SQSClient({ region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  });

  afterAll(async () => {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = saved;
    sqs?.destroy();
    await running?.endpoint.close();
    removeStateDir(stateDir);
  });

  it('sends, receives (the SDK checks the body MD5) and deletes', async () => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'sdk-dlq' }));
    expect(QueueUrl).toBe(`${running.endpoint.url}/000000000000/sdk-dlq`);
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: 'héllo ✓',
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'test' },
          raw: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
        },
      }),
    );
    expect(sent.MD5OfMessageAttributes).toBe(
      md5OfMessageAttributes({
        kind: { DataType: 'String', StringValue: 'test' },
        raw: { DataType: 'Binary', BinaryValue: 'AQID' },
      }),
    );
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['All'], MaxNumberOfMessages: 5 }),
    );
    expect(Messages).toHaveLength(1);
    expect(Messages?.[0]?.Body).toBe('héllo ✓');
    expect(Array.from(Messages?.[0]?.MessageAttributes?.raw?.BinaryValue ?? [])).toEqual([1, 2, 3]);

    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: Messages?.[0]?.ReceiptHandle }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });

  it('maps errors back to the modelled exceptions', async () => {
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'absent' }))).rejects.toBeInstanceOf(QueueDoesNotExist);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'sdk-dlq' }));
    await expect(sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'garbage' }))).rejects.toBeInstanceOf(
      ReceiptHandleIsInvalid,
    );
  });
});
