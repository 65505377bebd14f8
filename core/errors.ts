// Errors meant for the person at the terminal or the API client: one clear line, no stack trace.
export class UserError extends Error {
  /** A stable machine-readable code (also used by the HTTP API). */
  readonly code: string;
  constructor(message: string, code = 'bad_input') {
    super(message);
    this.name = 'UserError';
    this.code = code;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
