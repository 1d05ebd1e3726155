export { md5OfMessageAttributes } from './sqs/message.js';
export type { LocalQueue } from './sqs/provider.js';
export { createSqsService, type LocalSqsService } from './sqs/service.js';
export type { SqsMessageAttributeValue } from './sqs/store.js';
