// The HTTP API under PUBLIC_URL: /api/v1 (invites, groups, the OpenAPI document)
// and Prosody's /invites_api. Its own scope of the web server: JSON bodies only
// (no forms), JSON errors, a rate limit per key, a log line per call naming the
// key (never the key itself, never the URL), and no CSRF (that is the pages' form).
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { GroupService } from '../groups/service.js';
import type { InviteService } from '../invites/service.js';
import { log } from '../log.js';
import { type Rate, SenderLimit } from '../rate-limit.js';
import { type ApiRouteConfig, authenticate, authorize, keyOf } from './auth.js';
import { DROP_IN_PATH, dropInRoutes } from './drop-in.js';
import { ApiError, renderError } from './errors.js';
import { groupRoutes } from './groups.js';
import { inviteRoutes, type Secured } from './invites.js';
import type { ApiKeys, Scope } from './keys.js';
import { openapiInfo } from './schemas.js';

export const API_PREFIX = '/api/v1';
/** API_RATE_LIMIT when it is not set: 120 requests a minute per key. */
export const DEFAULT_API_RATE_LIMIT = { points: 120, duration: 60 } as const;
export const OPENAPI_PATH = `${API_PREFIX}/openapi.json`;

export interface ApiContext {
  service: InviteService;
  groups: GroupService;
  apiKeys: ApiKeys;
  /** PUBLIC_URL, without a trailing slash. */
  publicUrl: string;
  /** PUBLIC_URL's path (no trailing slash): the API is under it. */
  base: string;
  /** Requests per key: API_RATE_LIMIT. */
  perKey: Rate;
  /** Requests without a (valid) key, per client address: the pages' limit. */
  perAddress: { max: number; windowMs: number };
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Validators: bodies exactly as sent (no type coercion, no dropped fields: an unknown
 * field is an error); query and path parameters are strings, so they are coerced
 * (`limit=5` is 5). Ajv is the validator fastify itself uses.
 */
function validators() {
  const common = { allErrors: false, removeAdditional: false, useDefaults: true, strict: false, validateFormats: false } as const;
  const strict = new Ajv({ ...common, coerceTypes: false });
  const coercing = new Ajv({ ...common, coerceTypes: true });
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => (httpPart === 'body' ? strict : coercing).compile(schema);
}

/** The JSON parser, but a DELETE may say JSON and send nothing. */
function jsonBodies(api: FastifyInstance): void {
  const json = api.getDefaultJsonParser('error', 'error');
  api.removeAllContentTypeParsers();
  api.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '' && req.method === 'DELETE') return done(null, undefined);
    return json(req, body as string, done);
  });
}

export async function apiRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  await app.register(async (api) => {
    await api.register(swagger, { openapi: openapiInfo(ctx.publicUrl) as never });
    api.setValidatorCompiler(validators());
    jsonBodies(api);
    api.setErrorHandler((err: FastifyError, req, reply) => renderError(err, req, reply));
    api.addHook('onRequest', authenticate(ctx.apiKeys));
    api.addHook('onSend', async (_req, reply) => { reply.header('cache-control', 'no-store'); });
    api.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
      // The key's name and the route's pattern: never the key, never the URL (a ?key= is in it).
      log.info(`api: ${keyOf(req)?.name ?? '(no key)'} ${req.method} ${req.routeOptions.url ?? '(no route)'} ${reply.statusCode}`);
    });

    // Counted per key once it is verified (over every route together); requests without a valid key count per address.
    // Not the pages' per-address limit: many keys may call from one address.
    const perKey = new SenderLimit(ctx.perKey);
    const perAddress = new SenderLimit({ points: ctx.perAddress.max, duration: Math.max(1, Math.round(ctx.perAddress.windowMs / 1000)) });
    api.addHook('onRequest', async (req) => {
      if (!(req.routeOptions.config as ApiRouteConfig | undefined)?.scope) return;
      const key = keyOf(req);
      const admitted = key ? await perKey.take(key.id) : await perAddress.take(req.ip);
      if (admitted.ok) return;
      if (admitted.firstRefusal) log.warn(`api: ${key ? `key ${key.name}` : 'requests without a valid key'} over the rate limit; refused for ${admitted.seconds} s`);
      throw new ApiError(429, 'rate-limited', `Too many requests${key ? ' with this key' : ''}; try again in ${admitted.seconds} seconds.`, { 'retry-after': String(admitted.seconds) });
    });
    api.addHook('preParsing', async (req) => { await authorize(req); });

    const secured: Secured = (scope: Scope, schema) => ({
      schema: { security: [{ bearer: [] }], ...schema },
      // The pages' per-address limit does not apply: the hook above limits per key.
      config: { scope, rateLimit: false } satisfies ApiRouteConfig & { rateLimit: false },
    }) as RouteShorthandOptions;

    /** Every other method of a path: 405 JSON, with Allow. */
    const allowOnly = (v: FastifyInstance, url: string, allowed: readonly string[]) => {
      const all = allowed.includes('GET') && url !== DROP_IN_PATH ? [...allowed, 'HEAD'] : allowed;
      v.route({
        method: METHODS.filter((m) => !all.includes(m)),
        url,
        schema: { hide: true },
        // Before any body is read: a wrong method is the answer, whatever was sent.
        onRequest: async () => {
          throw new ApiError(405, 'method-not-allowed', `Use ${all.join(' or ')} here.`, { allow: all.join(', ') });
        },
        handler: async () => undefined,
      });
    };

    dropInRoutes(api, ctx.service, secured);
    allowOnly(api, DROP_IN_PATH, ['GET']);

    await api.register(async (v1) => {
      v1.get('/openapi.json', { schema: { hide: true } }, async () => api.swagger());
      allowOnly(v1, '/openapi.json', ['GET']);
      inviteRoutes(v1, ctx.service, secured);
      groupRoutes(v1, ctx.groups, secured);
      for (const [url, methods] of [
        ['/invites', ['GET', 'POST']], ['/invites/:id', ['GET', 'DELETE']],
        ['/groups', ['GET', 'POST']], ['/groups/:name', ['GET', 'DELETE']],
        ['/groups/:name/members', ['GET', 'POST']], ['/groups/:name/members/:jid', ['DELETE']],
      ] as const) allowOnly(v1, url, methods);
      v1.setNotFoundHandler(async () => {
        throw new ApiError(404, 'not-found', `No such route; the routes are in ${ctx.base}${OPENAPI_PATH}.`);
      });
    }, { prefix: API_PREFIX });
  }, { prefix: ctx.base });
}
