import { createLogger } from '../../shared/observability.js';
import { tireOrdersService } from '../service.js';

/**
 * The service's one Powertools setup, shared by its handlers: a Logger configured from POWERTOOLS_* variables
 * (POWERTOOLS_LOG_LEVEL, set by tireOrdersEnvironment).
 */
export const logger = createLogger(tireOrdersService.name);
