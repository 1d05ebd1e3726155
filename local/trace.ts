// The trace of an order is read from the audit log by operators; its logic lives in the client module.
export { traceOf, type TraceHop } from '../client/trace.js';
