export { createLocalOperationsService, LOCAL_OPERATIONS_TARGET_PREFIX } from './local-operations/service.js';
export type { LocalOperationsOptions } from './local-operations/store.js';
