// The web side's HTTP server: fastify with its plugins for security headers,
// cookies + CSRF, form bodies and per-address rate limits; the pages are in
// landing.ts and register-form.ts.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { ApiKeys } from '../api/keys.js';
import { API_PREFIX, apiRoutes, DEFAULT_API_RATE_LIMIT } from '../api/routes.js';
import type { GroupService } from '../groups/service.js';
import type { InviteService } from '../invites/service.js';
import { log } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { ClientList } from './clients.js';
import { landingRoutes } from './landing.js';
import { type RegisterLimit, registerRoutes } from './register-form.js';
import { type FollowUps, invitePath, sendMessage, type Site, visit } from './site.js';
import { Views } from './views.js';

export interface WebOptions {
  /** Registration attempts per client address: 10 per 10 minutes. */
  registerLimit?: RegisterLimit;
  /** Requests of any page per client address: 300 a minute. */
  pageLimit?: RegisterLimit;
}

export interface WebContext {
  config: Pick<Config, 'publicUrl' | 'httpHost' | 'httpPort' | 'trustProxy' | 'xmppDomain' | 'metricsToken'> & Partial<Pick<Config, 'language' | 'botJid' | 'apiRateLimit'>>;
  service: InviteService;
  /** For the HTTP API (/api/v1): absent, it is not served. */
  groups?: GroupService;
  apiKeys?: ApiKeys;
  admin: Site['admin'];
  clients: ClientList;
  now?: () => Date;
  /** /metrics and /health; absent: neither is served. */
  metrics?: Metrics;
  /** The follow-ups' outcomes (contacts made), for the success page. */
  followUps?: FollowUps;
}

const STYLE = readFileSync(new URL('./static/style.css', import.meta.url));
const ICON = readFileSync(new URL('./static/icon.svg', import.meta.url));

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * Who may read /metrics: with METRICS_TOKEN, whoever sends it as a bearer token; without,
 * only a request made on this machine and not relayed by a proxy (a proxy on this machine
 * connects from loopback too, but adds the header that names the visitor).
 */
function metricsRefusal(req: FastifyRequest, token: string | undefined): 401 | 403 | undefined {
  if (token !== undefined) {
    const given = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    return timingSafeEqual(sha256(given), sha256(token)) ? undefined : 401;
  }
  const peer = req.socket.remoteAddress ?? ''; // the socket's, never X-Forwarded-For's
  const loopback = /^(127\.|::ffff:127\.)/.test(peer) || peer === '::1';
  const relayed = ['forwarded', 'x-forwarded-for', 'x-real-ip'].some((h) => req.headers[h] !== undefined);
  return loopback && !relayed ? undefined : 403;
}

/** The route pattern (`/invite/:token`), never the URL: URLs carry tokens and must not reach the log. */
function route(req: FastifyRequest): string {
  return `${req.method} ${req.routeOptions.url ?? '(no route)'}`;
}

export async function buildWeb(ctx: WebContext, opts: WebOptions = {}): Promise<FastifyInstance> {
  const publicUrl = new URL(ctx.config.publicUrl ?? `http://${ctx.config.httpHost}:${ctx.config.httpPort}`);
  const https = publicUrl.protocol === 'https:';
  if (https && ctx.config.trustProxy === false) {
    log.warn(`PUBLIC_URL is https but TRUST_PROXY is not set: behind a TLS proxy every visitor has the proxy's address, `
      + 'so one visitor\'s attempts count against all; set TRUST_PROXY to the proxy\'s address');
  }
  if (ctx.config.trustProxy === true) {
    log.warn('TRUST_PROXY is true: the first X-Forwarded-For address of every request is believed, so anyone who reaches '
      + 'this port directly chooses their own address and escapes the per-address limits; set TRUST_PROXY to the proxy\'s address');
  }
  const site: Site = {
    service: ctx.service,
    admin: ctx.admin,
    clients: ctx.clients,
    views: new Views(),
    domain: ctx.config.xmppDomain,
    base: publicUrl.pathname.replace(/\/+$/, ''),
    publicUrl: publicUrl.href.replace(/\/+$/, ''),
    secure: https,
    language: ctx.config.language ?? 'en',
    ...(ctx.config.botJid ? { botJid: ctx.config.botJid } : {}),
    ...(ctx.followUps ? { followUps: ctx.followUps } : {}),
    now: ctx.now ?? (() => new Date()),
  };

  const app = Fastify({
    // Fastify's logger writes request URLs, which carry invite tokens.
    logger: false,
    trustProxy: ctx.config.trustProxy,
    bodyLimit: 16 * 1024,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // A malformed or over-long path never reaches helmet or our handlers: answer it with
    // our page and the headers that matter, never fastify's JSON echoing the path (a token).
    frameworkErrors: (err, req, reply) => {
      const status = (err as { statusCode?: number }).statusCode ?? 400;
      if (req.url.startsWith(`${site.base}${API_PREFIX}/`)) {
        // The API answers JSON, and never echoes the path either.
        const r = reply as FastifyReply;
        return r.code(status).headers({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
          .type('application/json; charset=utf-8').send({ error: 'bad-request', message: 'The URL cannot be read (malformed, or too long).' });
      }
      reply.headers({
        'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'",
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      // No cookie or query here (not parsed): the visitor's Accept-Language.
      const v = visit(site, req);
      return sendMessage(site, v, reply, status, v.t('web.error.notFound.title'), v.t('web.error.notFound.lead'));
    },
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    // Tokens are in every invite URL: no Referer may carry them to an app store.
    referrerPolicy: { policy: 'no-referrer' },
    hsts: https,
  });
  // A fresh key per start: a restart only makes an open form ask to be sent again.
  await app.register(cookie, { secret: randomBytes(32).toString('base64url') });
  await app.register(csrf, {
    cookieKey: 'invite_csrf',
    cookieOpts: { path: `${site.base}/`, sameSite: 'strict', httpOnly: true, secure: https, signed: true },
    logLevel: 'debug', // fastify's logger is off; refusals are logged by the error handler
  });
  await app.register(formbody);
  const pageLimit = opts.pageLimit ?? { max: 300, windowMs: 60_000 };
  await app.register(rateLimit, {
    global: true,
    max: pageLimit.max,
    timeWindow: pageLimit.windowMs,
    errorResponseBuilder: (_req, context) => Object.assign(new Error('rate limited'), { statusCode: 429, retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)) }),
  });

  app.setErrorHandler((err: FastifyError & { retryAfter?: number }, req, reply: FastifyReply) => {
    const token = (req.params as { token?: string } | undefined)?.token;
    const v = visit(site, req);
    const { t } = v;
    const form = token ? { url: invitePath(site, token, '/register'), label: t('web.error.formAgain') } : undefined;
    if (err.statusCode === 429) {
      return sendMessage(site, v, reply, 429, t('web.error.tooMany.title'),
        // In seconds, worded here: the plugin's own "1 minute" is English.
        err.retryAfter ? t('web.error.tooMany.seconds', { seconds: err.retryAfter }) : t('web.error.tooMany.minutes'));
    }
    if (err.code === 'FST_CSRF_MISSING_SECRET' || err.code === 'FST_CSRF_INVALID_TOKEN') {
      log.info(`web: ${route(req)}: form refused (${err.code})`);
      return sendMessage(site, v, reply, 403, t('web.error.csrf.title'), t('web.error.csrf.lead'), form);
    }
    if (err.validation || (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)) {
      log.info(`web: ${route(req)}: bad request (${err.code ?? err.statusCode})`);
      return sendMessage(site, v, reply, err.statusCode ?? 400, t('web.error.badRequest.title'), t('web.error.badRequest.lead'), form);
    }
    log.error(`web: ${route(req)} failed: ${err.stack ?? err.message}`);
    return sendMessage(site, v, reply, 500, t('web.error.internal.title'), t('web.error.internal.lead'));
  });
  app.setNotFoundHandler((req, reply) => {
    const v = visit(site, req, reply);
    return sendMessage(site, v, reply, 404, v.t('web.error.notFound.title'), v.t('web.error.notFound.lead'));
  });

  // For the operator, at the root whatever PUBLIC_URL's path: a proxy that forwards only the
  // pages' path never shows them. Not rate-limited: visitors behind one proxy address must
  // not make the load balancer's probe fail.
  const { metrics } = ctx;
  if (metrics) {
    const ops = { config: { rateLimit: false } } as const;
    app.get('/health', ops, async (_req, reply) => {
      const { httpStatus, body } = await metrics.health();
      return reply.code(httpStatus).header('Cache-Control', 'no-store').send(body);
    });
    app.get('/metrics', ops, async (req, reply) => {
      reply.header('Cache-Control', 'no-store').type('text/plain; charset=utf-8');
      const refused = metricsRefusal(req, ctx.config.metricsToken);
      if (refused === 401) return reply.code(401).header('WWW-Authenticate', 'Bearer realm="metrics"').send('A bearer token (METRICS_TOKEN) is needed.\n');
      if (refused === 403) return reply.code(403).send('Served only to requests from this machine, not through a proxy; set METRICS_TOKEN to scrape from elsewhere.\n');
      const { contentType, body } = await metrics.render(req.headers.accept);
      return reply.type(contentType).send(body);
    });
  }

  // Under PUBLIC_URL's path: the pages are where the links point, through a proxy that keeps the path.
  await app.register(async (pages) => {
    // Not rate-limited: a page's own stylesheet and icon are no attempt at anything, and
    // 300 fetches of them from one address locked every visitor behind it out.
    const asset = { config: { rateLimit: false } } as const;
    pages.get('/static/style.css', asset, (_req, reply) => reply.header('Cache-Control', 'public, max-age=3600').type('text/css; charset=utf-8').send(STYLE));
    pages.get('/static/icon.svg', asset, (_req, reply) => reply.header('Cache-Control', 'public, max-age=86400').type('image/svg+xml').send(ICON));
    // PUBLIC_URL itself (the bot's vCard links it): what this site is, and how one gets an invite.
    pages.get('/', (req, reply) => {
      const v = visit(site, req, reply);
      const how = site.botJid ? v.t('web.home.bot', { bot: site.botJid }) : '';
      return sendMessage(site, v, reply, 200, v.t('web.home.title', { domain: site.domain }), `${v.t('web.home.lead', { domain: site.domain })}${how ? ` ${how}` : ''}`);
    });
    landingRoutes(pages, site);
    registerRoutes(pages, site, opts.registerLimit ?? { max: 10, windowMs: 10 * 60_000 });
  }, { prefix: site.base });
  // The HTTP API (its own scope: JSON only, per-key limits, no CSRF), where the app gives what it needs.
  if (ctx.apiKeys && ctx.groups) {
    await apiRoutes(app, {
      service: ctx.service, groups: ctx.groups, apiKeys: ctx.apiKeys, publicUrl: site.publicUrl, base: site.base,
      perKey: ctx.config.apiRateLimit ?? DEFAULT_API_RATE_LIMIT, perAddress: pageLimit,
    });
  }
  return app;
}

/** Build and listen on HTTP_HOST:HTTP_PORT; the address actually bound is in `app.server.address()`. */
export async function startWeb(ctx: WebContext, opts: WebOptions = {}): Promise<FastifyInstance> {
  const app = await buildWeb(ctx, opts);
  try {
    await app.listen({ host: ctx.config.httpHost, port: ctx.config.httpPort });
  } catch (e) {
    await app.close();
    throw new Error(`web pages: cannot listen on ${ctx.config.httpHost}:${ctx.config.httpPort}: ${(e as Error).message}`);
  }
  log.info(`web pages on ${ctx.config.httpHost}:${(app.server.address() as { port: number }).port}, linked as ${ctx.config.publicUrl ?? '(no PUBLIC_URL)'}`);
  return app;
}
