/**
 * The operation could not do what was asked (not found, refused, unreachable). The CLI prints its message and exits
 * 1 without a stack trace; the console shows it to the operator. Thrown by the locators and the client operations.
 */
export class OperatorError extends Error {
  override readonly name = 'OperatorError';
}
