/** The listener guard lives in shared/http/guard.ts (the operator console serves behind it too). */
export * from '../../shared/http/guard.js';
