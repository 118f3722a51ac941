// Who is calling: the key in `Authorization: Bearer KEY` (or, for the Prosody
// drop-in only, `?key=`), verified once per request; the route's scope decides.
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../invites/types.js';
import { type ApiKey, type ApiKeys, allows, type Scope } from './keys.js';
import { ApiError } from './errors.js';

/** What a route asks of its caller (in the route's `config`). */
export interface ApiRouteConfig {
  /** The scope it needs; absent: no key needed (the OpenAPI document, 404s, 405s). */
  scope?: Scope;
  /** Prosody's mod_invites_api: the key may come in the query, and every refusal is 403 as there. */
  dropIn?: boolean;
}

const keys = new WeakMap<FastifyRequest, ApiKey>();
const tried = new WeakMap<FastifyRequest, 'none' | 'bad'>();

/** The verified key of this request (set by authenticate). */
export function keyOf(req: FastifyRequest): ApiKey | undefined {
  return keys.get(req);
}

/** The core's actor for this request: createdBy is then `api:NAME`. */
export function actorOf(req: FastifyRequest): Actor {
  const key = keys.get(req);
  if (!key) throw new Error('no key: the route was not authorised');
  return { system: 'api', key: key.name };
}

function routeConfig(req: FastifyRequest): ApiRouteConfig {
  return (req.routeOptions.config ?? {}) as ApiRouteConfig;
}

/** The key as given: the bearer header, else (drop-in only) `?key=`. undefined: none given; null: a header that is no bearer token. */
function givenKey(req: FastifyRequest, dropIn: boolean): string | undefined | null {
  const header = req.headers.authorization;
  const bearer = header === undefined ? undefined : /^Bearer +(\S+) *$/i.exec(header)?.[1] ?? null;
  // The drop-in takes ?key= whatever other Authorization a proxy adds (Basic auth in front of the site).
  if (!dropIn || bearer) return bearer;
  const q = (req.query as { key?: unknown } | undefined)?.key;
  return typeof q === 'string' ? q : undefined;
}

/** onRequest: find the key (before the rate limit, which counts per key); refuses nothing itself. */
export function authenticate(apiKeys: ApiKeys) {
  return async (req: FastifyRequest): Promise<void> => {
    const config = routeConfig(req);
    if (!config.scope) return;
    const given = givenKey(req, config.dropIn === true);
    if (given === undefined) {
      tried.set(req, 'none');
      return;
    }
    const key = given === null ? undefined : await apiKeys.verify(given);
    if (key) keys.set(req, key);
    else tried.set(req, 'bad');
  };
}

/** preParsing (after the rate limit, before the body is read): no key 401, too few scopes 403. */
export async function authorize(req: FastifyRequest): Promise<void> {
  const { scope, dropIn } = routeConfig(req);
  if (!scope) return;
  const key = keys.get(req);
  if (!key) {
    const none = tried.get(req) === 'none';
    // Prosody's mod_invites_api answers 403 to a missing or wrong key: a drop-in does the same.
    if (dropIn) throw new ApiError(403, 'forbidden', none ? 'An API key is needed (?key=KEY or Authorization: Bearer KEY).' : 'This API key is unknown or revoked.');
    throw new ApiError(401, 'unauthorized', none ? 'An API key is needed: Authorization: Bearer KEY.' : 'This API key is unknown or revoked.', {
      'www-authenticate': none ? 'Bearer realm="api"' : 'Bearer realm="api", error="invalid_token"',
    });
  }
  requireScope(req, scope);
}

/** 403 unless this request's (verified) key has `scope`; `why` follows the scope's name in the message. */
export function requireScope(req: FastifyRequest, scope: Scope, why = ''): void {
  if (allows(keys.get(req)?.scopes ?? [], scope)) return;
  throw new ApiError(403, 'forbidden', `This API key lacks the scope ${scope}${why}.`, routeConfig(req).dropIn ? {} : {
    'www-authenticate': `Bearer realm="api", error="insufficient_scope", scope="${scope}"`,
  });
}
