import { NovaError, type ErrorKind } from '../errors.js';

/** Which API family answers: each renders faults in its own upstream shape. */
export type FaultStyle = 'nova' | 'keystone' | 'glance' | 'neutron' | 'placement';

const table: Record<ErrorKind, { status: number; nova: string; title: string }> = {
  Invalid: { status: 400, nova: 'badRequest', title: 'Bad Request' },
  Unauthorized: { status: 401, nova: 'unauthorized', title: 'Unauthorized' },
  Forbidden: { status: 403, nova: 'forbidden', title: 'Forbidden' },
  OverQuota: { status: 403, nova: 'forbidden', title: 'Forbidden' },
  NotFound: { status: 404, nova: 'itemNotFound', title: 'Not Found' },
  MethodNotAllowed: { status: 405, nova: 'badMethod', title: 'Method Not Allowed' },
  NotAcceptable: { status: 406, nova: 'notAcceptable', title: 'Not Acceptable' },
  Conflict: { status: 409, nova: 'conflictingRequest', title: 'Conflict' },
  TooLarge: { status: 413, nova: 'overLimit', title: 'Request Entity Too Large' },
  UnsupportedMediaType: { status: 415, nova: 'badMediaType', title: 'Unsupported Media Type' },
  NotImplemented: { status: 501, nova: 'notImplemented', title: 'Not Implemented' },
  NoValidHost: { status: 400, nova: 'badRequest', title: 'Bad Request' },
  Timeout: { status: 504, nova: 'computeFault', title: 'Gateway Timeout' },
  ServiceUnavailable: { status: 503, nova: 'serviceUnavailable', title: 'Service Unavailable' },
};

export function statusOf(kind: ErrorKind): number {
  return table[kind].status;
}

/** Renders an error as the upstream service would. Unknown errors become a generic 500. */
export function faultBody(style: FaultStyle, err: unknown): { status: number; body: unknown } {
  if (!(err instanceof NovaError)) {
    const message =
      'Unexpected API Error. Please report this at the nova-ts issue tracker and attach the server log if possible.';
    if (style === 'keystone') return { status: 500, body: { error: { code: 500, message, title: 'Internal Server Error' } } };
    if (style === 'glance') return { status: 500, body: { code: '500 Internal Server Error', title: 'Internal Server Error', message } };
    if (style === 'neutron') return { status: 500, body: { NeutronError: { type: 'HTTPInternalServerError', message, detail: '' } } };
    if (style === 'placement') return { status: 500, body: placementErrors(500, 'Internal Server Error', message) };
    return { status: 500, body: { computeFault: { code: 500, message } } };
  }
  const row = table[err.kind];
  if (style === 'neutron') return neutronFault(err);
  if (style === 'placement') return { status: row.status, body: placementErrors(row.status, row.title, err.message) };
  if (style === 'keystone') return { status: row.status, body: { error: { code: row.status, message: err.message, title: row.title } } };
  if (style === 'glance')
    return { status: row.status, body: { code: `${row.status} ${row.title}`, title: row.title, message: err.message } };
  return { status: row.status, body: { [row.nova]: { code: row.status, message: err.message } } };
}

/** Neutron's exception names by kind; an error may name its own in details.neutronType. */
const NEUTRON_TYPES: Partial<Record<ErrorKind, string>> = {
  Invalid: 'InvalidInput',
  Unauthorized: 'HTTPUnauthorized',
  Forbidden: 'PolicyNotAuthorized',
  OverQuota: 'OverQuota',
  NotFound: 'NotFound',
  Conflict: 'Conflict',
  MethodNotAllowed: 'HTTPMethodNotAllowed',
};

/** Neutron's fault body: {"NeutronError": {type, message, detail}}; over quota is a 409 there. */
function neutronFault(err: NovaError): { status: number; body: unknown } {
  const status = err.kind === 'OverQuota' ? 409 : table[err.kind].status;
  const type = typeof err.details.neutronType === 'string' ? err.details.neutronType : (NEUTRON_TYPES[err.kind] ?? table[err.kind].title.replace(/ /g, ''));
  return { status, body: { NeutronError: { type, message: err.message, detail: '' } } };
}

/** Placement's error body: {"errors": [{status, title, detail, code}]}. */
function placementErrors(status: number, title: string, detail: string) {
  return { errors: [{ status, title, detail, code: 'placement.undefined_code' }] };
}
