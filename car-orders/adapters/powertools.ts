import { createLogger } from '../../shared/observability.js';
import { carOrdersService } from '../service.js';

/**
 * The car maker's one Powertools setup: every handler and adapter logs through this Logger, so keys appended for a
 * request (correlationId, requestId) appear on every line written while serving it. Level and sampling come from
 * POWERTOOLS_* environment variables (carOrdersEnvironment).
 */
export const logger = createLogger(carOrdersService.name);
