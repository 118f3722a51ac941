// GET and POST /invite/TOKEN/register: the account form (or the new-password
// form of a reset invite), turned into a registerWithInvite() call.
import type { FastifyInstance, FastifyReply, RouteShorthandOptions } from 'fastify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { localize } from '../invites/policy.js';
import type { Invite } from '../invites/types.js';
import { findClient, storeUrl } from './clients.js';
import { deadEndOf, sendDeadEnd } from './dead-ends.js';
import { inviteText, rolesText } from './invite-view.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password-policy.js';
import { hasForm, registerWithInvite } from './registration.js';
import { invitePath, pageBase, sendHtml, sendMessage, sendRedirect, sendState, type Site, visit } from './site.js';
import type { Visit } from './visit.js';
import { inLang, platformsFor } from './landing.js';

type FormBody = { username?: string; password?: string; password2?: string; _csrf?: string; app?: string };
type FormRoute = { Params: { token: string }; Body: FormBody; Querystring: { app?: string } };

export interface RegisterLimit {
  /** Registration attempts (POSTs) per client address per window. */
  max: number;
  windowMs: number;
}

/** How long the success page waits to learn whether the contacts were made. */
const CONTACTS_WAIT_MS = 3_000;

// Bounds, not rules: a longer value gets the friendly message from the checks that follow.
const bodySchema = {
  type: 'object',
  properties: {
    username: { type: 'string', maxLength: 1000 },
    password: { type: 'string', maxLength: 4000 },
    password2: { type: 'string', maxLength: 4000 },
    _csrf: { type: 'string', maxLength: 500 },
    app: { type: 'string', maxLength: 40 },
  },
} as const;

interface FormState {
  username?: string;
  error?: string;
  errorField?: 'username' | 'password';
}

/** The app the person picked on its page (carried through the form), if it is one of the list. */
const chosenApp = (site: Site, id: string | undefined) => (id ? findClient(site.clients, id) : undefined);

function sendForm(site: Site, v: Visit, reply: FastifyReply, status: number, token: string, invite: Invite, app: string | undefined, state: FormState = {}): FastifyReply {
  const { t } = v;
  const text = inviteText(invite, site.domain, t, site.admin);
  const uri = site.service.uri(invite, token);
  const reset = invite.kind === 'reset';
  return sendHtml(reply, status, site.views.render('register', {
    ...pageBase(site, v, reset ? text.title : t('web.form.title', { domain: site.domain }), uri),
    lead: text.lead,
    roles: text.roles,
    reset,
    fixedUsername: invite.username,
    username: state.username ?? '',
    error: state.error,
    errorField: state.errorField,
    minPassword: MIN_PASSWORD_LENGTH,
    maxPassword: MAX_PASSWORD_LENGTH,
    app: chosenApp(site, app)?.client.id,
    csrf: reply.generateCsrf(),
  }));
}

export function registerRoutes(app: FastifyInstance, site: Site, limit: RegisterLimit): void {
  // Counted per visitor (req.ip: the proxy's X-Forwarded-For when TRUST_PROXY names it) and
  // only once the CSRF check and the token passed: a made-up token or a cookie-less POST
  // from one address must not lock the form for everyone else behind it.
  const attempts = new RateLimiterMemory({ points: limit.max, duration: Math.max(1, Math.ceil(limit.windowMs / 1000)) });
  app.get<FormRoute>('/invite/:token/register', async (req, reply) => {
    const { token } = req.params;
    const v = visit(site, req, reply);
    const found = await site.service.lookup(token);
    if (found.state !== 'valid') return sendState(site, v, reply, found.state);
    // A contact invite makes no account: its landing page says what to do.
    if (!hasForm(found.invite)) return sendRedirect(reply, invitePath(site, token));
    const dead = await deadEndOf(site, found.invite);
    if (dead) return sendDeadEnd(site, v, reply, dead);
    return sendForm(site, v, reply, 200, token, found.invite, req.query.app);
  });

  const post: RouteShorthandOptions = {
    schema: { body: bodySchema },
    // After the body is parsed: the CSRF token travels in it.
    preHandler: app.csrfProtection,
  };
  app.post<FormRoute>('/invite/:token/register', post, async (req, reply) => {
    const { token } = req.params;
    const v = visit(site, req, reply);
    const { t } = v;
    const found = await site.service.lookup(token);
    if (found.state !== 'valid') return sendState(site, v, reply, found.state);
    if (!hasForm(found.invite)) return sendRedirect(reply, invitePath(site, token));
    try {
      await attempts.consume(req.ip);
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      const seconds = Math.ceil(e.msBeforeNext / 1000);
      reply.header('Retry-After', String(seconds));
      return sendMessage(site, v, reply, 429, t('web.error.tooMany.title'), t('web.error.tooMany.seconds', { seconds }));
    }
    const body = req.body ?? {};
    const result = await registerWithInvite(site.service, site.admin, {
      token,
      username: body.username ?? '',
      password: body.password ?? '',
      confirm: body.password2 ?? '',
    });
    if (result.ok) {
      const { invite, jid } = result;
      const reset = invite.kind === 'reset';
      // Made, failed, or not known in time (done by another instance, or slow): said as it is.
      let contacts: 'made' | 'failed' | 'pending' | undefined;
      if (invite.kind === 'account-contact' && invite.inviter) {
        // A server that cannot make contacts (no bridge) is not waited for: "shortly" would be untrue.
        const o = site.admin.makesContacts === false ? undefined : await site.followUps?.outcome(invite.id, jid, CONTACTS_WAIT_MS);
        contacts = site.admin.makesContacts === false ? 'failed' : o ? (o.contactsMade ? 'made' : 'failed') : 'pending';
      }
      const picked = chosenApp(site, body.app);
      // The invite is spent: store links carry no referrer (an app would start again with a used token).
      const uri = undefined;
      return sendHtml(reply, 200, site.views.render('success', {
        ...pageBase(site, v, reset ? t('web.success.resetTitle') : t('web.success.title')),
        // The page of a POST: a ?lang= link would open the (now used) invite's page instead.
        noLanguageLinks: true,
        jid,
        reset,
        inviter: invite.inviter,
        contacts,
        roles: rolesText(invite, site.domain, v.t, site.admin),
        app: picked && { name: picked.client.name, links: picked.client.links.map((l) => ({ label: inLang(l.label, l.labels, v), url: storeUrl(l, uri) })) },
        bot: site.botJid,
        ...platformsFor(site, v, token, uri),
      }));
    }
    if ('state' in result) return sendState(site, v, reply, result.state);
    if ('deadEnd' in result) return sendDeadEnd(site, v, reply, { why: result.deadEnd, jid: result.jid, username: result.username });
    // The form again, for the invite as it is now.
    const now = await site.service.lookup(token);
    if (now.state !== 'valid') return sendState(site, v, reply, now.state);
    return sendForm(site, v, reply, result.status, token, now.invite, body.app, {
      username: body.username,
      // The core's refusals and the form's own, in the visitor's language.
      error: localize(result.said, t),
      errorField: result.field,
    });
  });
}
