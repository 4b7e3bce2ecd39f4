/**
 * The closed set of errors nova-ts raises. Each carries a message a user can act on.
 * Nothing here knows about HTTP: the API edge (src/http/faults.ts) maps each kind to a
 * status code and to the fault body of the API that answers (Nova, Keystone or Glance).
 */
export type ErrorKind =
  | 'Invalid'
  | 'Unauthorized'
  | 'Forbidden'
  | 'OverQuota'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'Conflict'
  | 'TooLarge'
  | 'UnsupportedMediaType'
  | 'NotImplemented'
  | 'NoValidHost'
  | 'Timeout'
  | 'ServiceUnavailable';

export class NovaError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** Extra headers or details the edge may use (e.g. Retry-After). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = kind;
  }
}

export const invalid = (msg: string) => new NovaError('Invalid', msg);
export const unauthorized = (msg = 'The request you have made requires authentication.') =>
  new NovaError('Unauthorized', msg);
export const forbidden = (msg: string) => new NovaError('Forbidden', msg);
export const policyForbidden = (rule: string) =>
  new NovaError('Forbidden', `Policy doesn't allow ${rule} to be performed.`);
export const overQuota = (msg: string) => new NovaError('OverQuota', msg);
export const notFound = (msg: string) => new NovaError('NotFound', msg);
export const conflict = (msg: string) => new NovaError('Conflict', msg);
export const notAcceptable = (msg: string) => new NovaError('NotAcceptable', msg);
export const methodNotAllowed = (msg = 'The method is not allowed for the requested URL.') =>
  new NovaError('MethodNotAllowed', msg);
export const tooLarge = (msg: string) => new NovaError('TooLarge', msg);
export const notImplemented = (msg: string) => new NovaError('NotImplemented', msg);
export const noValidHost = (msg: string) => new NovaError('NoValidHost', msg);
export const timeout = (msg: string) => new NovaError('Timeout', msg);
export const unavailable = (msg: string) => new NovaError('ServiceUnavailable', msg);

/** Error raised when an action is not allowed in the instance's current state (Nova's 409). */
export function invalidState(action: string, uuid: string, attr: string, state: string): NovaError {
  return conflict(`Cannot '${action}' instance ${uuid} while it is in ${attr} ${state}`);
}

export function isNovaError(e: unknown): e is NovaError {
  return e instanceof NovaError;
}
