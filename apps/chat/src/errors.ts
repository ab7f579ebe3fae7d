/**
 * Matrix errors (client-server API §"Standard error response"): every error is a JSON object
 * `{ "errcode": "M_…", "error": "a sentence" }` with an HTTP status. Handlers throw a MatrixError;
 * the server's error handler (server.ts) writes it.
 */
export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    /** Extra keys of the error object (M_LIMIT_EXCEEDED's retry_after_ms). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { errcode: this.errcode, error: this.message, ...this.extra };
  }
}

export const forbidden = (message: string) => new MatrixError(403, 'M_FORBIDDEN', message);
export const notFound = (message: string) => new MatrixError(404, 'M_NOT_FOUND', message);
export const badJson = (message: string) => new MatrixError(400, 'M_BAD_JSON', message);
export const invalidParam = (message: string) => new MatrixError(400, 'M_INVALID_PARAM', message);
export const unrecognized = (status: 404 | 405, message: string) =>
  new MatrixError(status, 'M_UNRECOGNIZED', message);
