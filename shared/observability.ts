import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** The header that carries one correlation id across both companies: customer -> tire order -> callback. */
export const CORRELATION_ID_HEADER = 'X-Correlation-Id';

/**
 * A service's Powertools: its Logger and its Metrics, created once per service (adapters/powertools.ts) and
 * configured from POWERTOOLS_* environment variables (service name, log level, metrics namespace).
 */
export interface Powertools<M extends string> {
  logger: Logger;
  metrics: Metrics;
  /** Counts one occurrence of a business event; the invocation's counts leave as one EMF line (publishMetrics). */
  count: (metric: M, value?: number) => void;
  /** Writes the invocation's metrics to stdout as one CloudWatch EMF line, if any were counted. */
  publishMetrics: () => void;
}

/**
 * Metric names are the service's own closed union `M`, so a misspelt one does not compile. On AWS,
 * Lambda sends stdout to CloudWatch Logs, which turns each EMF line into metrics (no PutMetricData, no IAM);
 * locally the same line reaches the runtime's log sink.
 */
export function createPowertools<M extends string>(serviceName: string): Powertools<M> {
  const logger = new Logger({ serviceName });
  // Powertools' own warnings (e.g. an invalid dimension) go through the Logger, as structured lines.
  const metrics = new Metrics({ serviceName, logger });
  return {
    logger,
    metrics,
    count: (metric, value = 1) => metrics.addMetric(metric, MetricUnit.Count, value),
    // Publishing nothing would only log Powertools' "No application metrics to publish" warning.
    publishMetrics: () => {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    },
  };
}
