import { Logger } from '@aws-lambda-powertools/logger';

/** One Logger per service, configured from POWERTOOLS_* environment variables like every Powertools setup. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/** The header that carries one correlation id across both companies: customer -> tire order -> callback. */
export const CORRELATION_ID_HEADER = 'X-Correlation-Id';
