// The HTTP API's errors: always JSON `{error, message}`, and the one table that
// turns a refusal of the core (invites or groups) into an HTTP status.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { GroupRefusal } from '../groups/service.js';
import type { Refusal } from '../invites/service.js';
import { printable } from '../invites/service.js';
import { log } from '../log.js';

export interface ErrorBody {
  error: string;
  message: string;
}

/** An answer other than success, thrown by hooks and handlers and rendered by the error handler. */
export class ApiError extends Error {
  constructor(readonly statusCode: number, readonly error: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** Every code the invite core and the group core refuse with, and the status the API answers it with. */
export const REFUSAL_STATUS: Record<Refusal['code'] | GroupRefusal['code'], number> = {
  // The request names something impossible: a bad value the schema cannot see.
  'bad-username': 400,
  'bad-uses': 400,
  'bad-lifetime': 400,
  'bad-note': 400,
  'bad-group': 400,
  'bad-name': 400,
  'bad-room': 400,
  'bad-member': 400,
  'username-mismatch': 400,
  // Not for this caller (an API key is no account: no contact invites).
  'not-admin': 403,
  'foreign-domain': 403,
  'contact-invites-disabled': 403,
  'quota': 403,
  // Nothing of that name or id.
  'not-found': 404,
  'unknown': 404,
  'not-yours': 404,
  'not-member': 404,
  // The state of things stands in the way.
  'username-taken': 409,
  'no-account': 409,
  'exists': 409,
  'member': 409,
  'too-many': 409,
  'used': 409,
  'expired': 409,
  'revoked': 409,
  'in-use': 409,
  'wrong-purpose': 409,
  'no-reservation': 409,
};

export function refusalError(r: { code: string; message: string }): ApiError {
  return new ApiError(REFUSAL_STATUS[r.code as keyof typeof REFUSAL_STATUS] ?? 400, r.code, r.message);
}

/** What failed validation, in words: the schema's message, and the unknown field's name when that is it. */
function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0];
  const extra = (first?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
  if (first?.keyword === 'additionalProperties' && extra !== undefined) {
    return `${err.validationContext ?? 'body'} has an unknown field "${printable(extra)}"`;
  }
  return err.message;
}

/** The API scope's error handler: every failure as JSON. */
export function renderError(err: FastifyError & { retryAfter?: number }, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  let e: ApiError;
  if (err instanceof ApiError) e = err;
  else if (err.validation) e = new ApiError(400, 'invalid-request', validationMessage(err));
  else if (err.statusCode === 429) e = new ApiError(429, 'rate-limited', `Too many requests; try again in ${err.retryAfter ?? 60} seconds.`);
  else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') e = new ApiError(415, 'unsupported-media-type', 'The body must be JSON (Content-Type: application/json).');
  else if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError) {
    e = new ApiError(400, 'malformed-json', 'The body is not valid JSON.');
  } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') e = new ApiError(413, 'too-large', 'The body is too large.');
  else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) e = new ApiError(err.statusCode, 'bad-request', 'The request cannot be served.');
  else {
    log.error(`api: ${req.method} ${req.routeOptions.url ?? '(no route)'} failed: ${err.stack ?? err.message}`);
    e = new ApiError(500, 'internal', 'Something went wrong here; the log says what.');
  }
  const body: ErrorBody = { error: e.error, message: e.message };
  return reply.code(e.statusCode).headers(e.headers).type('application/json; charset=utf-8').send(body);
}
