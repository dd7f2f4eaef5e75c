/** An error caused by the user's input or environment: shown as one line, never a stack trace. */
export class UserError extends Error {
  override name = 'UserError';
}
