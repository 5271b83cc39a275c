/** One error type for everything the app refuses on purpose; the error middleware renders it. */
export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details: { errors?: FieldError[]; [k: string]: unknown } = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  static validation(errors: FieldError[], message = 'Some fields need attention.') {
    return new AppError('VALIDATION.FAILED', message, 422, { errors });
  }
  static notFound(what = 'Page', code = 'NOT_FOUND') {
    return new AppError(code, `${what} not found.`, 404);
  }
  static forbidden(message = 'You do not have permission to do that.') {
    return new AppError('AUTH.FORBIDDEN', message, 403);
  }
  static unauthenticated(message = 'Please sign in.') {
    return new AppError('AUTH.REQUIRED', message, 401);
  }
  static conflict(code: string, message: string, details: Record<string, unknown> = {}) {
    return new AppError(code, message, 409, details);
  }
  static badRequest(message: string, errors?: FieldError[]) {
    return new AppError('REQUEST.INVALID', message, 400, errors ? { errors } : {});
  }
}
