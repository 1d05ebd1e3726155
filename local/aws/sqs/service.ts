import type { AwsJsonService } from '../protocol.js';
import { operation, type ServiceErrors } from '../schema.js';
import { invalidParameter } from './message.js';
import { missingParameter, queueArn, queueDoesNotExist, SqsProvider, type LocalQueue } from './provider.js';
import * as input from './schemas.js';
import { SqsStore } from './store.js';

/**
 * Amazon SQS (standard queues) over the AWS JSON 1.0 protocol the current SDK speaks (X-Amz-Target:
 * AmazonSQS.<Operation>, errors `com.amazonaws.sqs#<Type>` plus the `x-amzn-query-error: <code>;Sender` header of the
 * awsQueryCompatible trait). It is the local runtime's dead-letter queue, so it also has an in-process API
 * (`queue(name).send(...)`) for the local EventBridge. Every input is checked against its schema (schemas.ts) first:
 * a mistyped member is a SerializationException, a missing one MissingParameter, a broken constraint
 * InvalidParameterValue.
 *
 * Deliberate differences: no FIFO queues and no redrive policy (UnsupportedOperation); ReceiveMessage validates
 * WaitTimeSeconds but answers at once (short poll) and, unlike SQS's sampled short poll, sees every visible message;
 * no batch operations, and no SetQueueAttributes or DeleteQueue (queues are declared by the runtime).
 */

export interface LocalSqsService extends AwsJsonService {
  /** CreateQueue without HTTP: creates the queue when absent (or checks its attributes match) and returns it. */
  ensureQueue(name: string, attributes?: Record<string, string>): LocalQueue;
  /** An existing queue by name or ARN; throws QueueDoesNotExist. */
  queue(nameOrArn: string): LocalQueue;
}

/** awsQueryError codes of the SQS model's exceptions (the SDK maps the header code back to the exception). */
const QUERY_ERROR_CODES: Record<string, string> = {
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueNameExists: 'QueueAlreadyExists',
  MessageNotInflight: 'AWS.SimpleQueueService.MessageNotInflight',
  PurgeQueueInProgress: 'AWS.SimpleQueueService.PurgeQueueInProgress',
  UnsupportedOperation: 'AWS.SimpleQueueService.UnsupportedOperation',
};

/** SQS answers a missing required member with MissingParameter, a broken constraint with InvalidParameterValue. */
const errors: ServiceErrors = { invalid: invalidParameter, missing: missingParameter };

export function createSqsService(stateDir: string): LocalSqsService {
  const sqs = new SqsProvider(new SqsStore(stateDir));
  return {
    targetPrefix: 'AmazonSQS',
    jsonVersion: '1.0',
    errorTypePrefix: 'com.amazonaws.sqs#',
    queryErrorCode: (type) => QUERY_ERROR_CODES[type] ?? type,

    ensureQueue(name, attributes = {}) {
      sqs.ensure(name, attributes, {});
      return sqs.localQueue(name);
    },

    queue(nameOrArn) {
      const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[5] ?? '') : nameOrArn;
      if (nameOrArn.startsWith('arn:') && nameOrArn !== queueArn(name)) throw queueDoesNotExist();
      sqs.existing(name);
      return sqs.localQueue(name);
    },

    operations: {
      CreateQueue: operation(input.CreateQueueInput, errors, (request, context) => sqs.createQueue(request, context)),
      GetQueueUrl: operation(input.GetQueueUrlInput, errors, (request, context) => sqs.getQueueUrl(request, context)),
      ListQueues: operation(input.ListQueuesInput, errors, (request, context) => sqs.listQueues(request, context)),
      GetQueueAttributes: operation(input.GetQueueAttributesInput, errors, (request) =>
        sqs.getQueueAttributes(request),
      ),
      SendMessage: operation(input.SendMessageInput, errors, (request, context) => sqs.sendMessage(request, context)),
      ReceiveMessage: operation(input.ReceiveMessageInput, errors, (request) => sqs.receiveMessage(request)),
      DeleteMessage: operation(input.DeleteMessageInput, errors, (request) => sqs.deleteMessage(request)),
      ChangeMessageVisibility: operation(input.ChangeMessageVisibilityInput, errors, (request) =>
        sqs.changeMessageVisibility(request),
      ),
      PurgeQueue: operation(input.PurgeQueueInput, errors, (request) => sqs.purgeQueue(request)),
    },
  };
}
