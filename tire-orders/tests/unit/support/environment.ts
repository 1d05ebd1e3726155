import { tireOrdersEnvironment } from '../../../service.js';

/**
 * Imported first by every handler test: the handlers read their configuration when their module loads, from
 * the same variables the stacks and the local runtime set. Logs are silenced; tests spy on the logger instead.
 */
export const TEST_TABLE_NAME = 'tire-orders-unit-test';
export const TEST_EVENT_BUS_NAME = 'tire-orders-unit-test-bus';
export const TEST_FULFILMENT_DELAY_SECONDS = 120;
export const TEST_PARTNER_RECORD_PATH = '/test/tire-orders/partners/';

Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  ...tireOrdersEnvironment({
    tireOrdersTableName: TEST_TABLE_NAME,
    eventBusName: TEST_EVENT_BUS_NAME,
    fulfilmentDelaySeconds: TEST_FULFILMENT_DELAY_SECONDS,
    partnerRecordPath: TEST_PARTNER_RECORD_PATH,
    logLevel: 'SILENT',
  }),
});
