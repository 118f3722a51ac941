// GET and POST /invite/TOKEN/register: the account form (or the new-password
// form of a reset invite), turned into a registerWithInvite() call.
import type { FastifyInstance, FastifyReply, RouteShorthandOptions } from 'fastify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Invite } from '../invites/types.js';
import { inviteText } from './invite-view.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password-policy.js';
import { hasForm, registerWithInvite, USERNAME_HINT } from './registration.js';
import { invitePath, pageBase, sendHtml, sendMessage, sendState, type Site } from './site.js';

type FormBody = { username?: string; password?: string; password2?: string; _csrf?: string };
type FormRoute = { Params: { token: string }; Body: FormBody };

export interface RegisterLimit {
  /** Registration attempts (POSTs) per client address per window. */
  max: number;
  windowMs: number;
}

// Bounds, not rules: a longer value gets the friendly message from the checks that follow.
const bodySchema = {
  type: 'object',
  properties: {
    username: { type: 'string', maxLength: 1000 },
    password: { type: 'string', maxLength: 4000 },
    password2: { type: 'string', maxLength: 4000 },
    _csrf: { type: 'string', maxLength: 500 },
  },
} as const;

interface FormState {
  username?: string;
  error?: string;
  errorField?: 'username' | 'password';
}

function sendForm(site: Site, reply: FastifyReply, status: number, token: string, invite: Invite, state: FormState = {}): FastifyReply {
  const text = inviteText(invite, site.domain);
  const uri = site.service.uri(invite, token);
  const reset = invite.kind === 'reset';
  return sendHtml(reply, status, site.views.render('register', {
    ...pageBase(site, reset ? text.title : `Create your account on ${site.domain}`, uri),
    lead: text.lead,
    reset,
    fixedUsername: invite.username,
    username: state.username ?? '',
    usernameHint: USERNAME_HINT,
    error: state.error,
    errorField: state.errorField,
    minPassword: MIN_PASSWORD_LENGTH,
    maxPassword: MAX_PASSWORD_LENGTH,
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
    const found = await site.service.lookup(token);
    if (found.state !== 'valid') return sendState(site, reply, found.state);
    // A contact invite makes no account: its landing page says what to do.
    if (!hasForm(found.invite)) return reply.header('Cache-Control', 'no-store').redirect(invitePath(site, token), 303);
    return sendForm(site, reply, 200, token, found.invite);
  });

  const post: RouteShorthandOptions = {
    schema: { body: bodySchema },
    // After the body is parsed: the CSRF token travels in it.
    preHandler: app.csrfProtection,
  };
  app.post<FormRoute>('/invite/:token/register', post, async (req, reply) => {
    const { token } = req.params;
    const found = await site.service.lookup(token);
    if (found.state !== 'valid') return sendState(site, reply, found.state);
    if (!hasForm(found.invite)) return reply.header('Cache-Control', 'no-store').redirect(invitePath(site, token), 303);
    try {
      await attempts.consume(req.ip);
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      const seconds = Math.ceil(e.msBeforeNext / 1000);
      reply.header('Retry-After', String(seconds));
      return sendMessage(site, reply, 429, 'Too many attempts', `Please wait ${seconds} seconds and try again.`);
    }
    const body = req.body ?? {};
    const result = await registerWithInvite(site.service, site.admin, {
      token,
      username: body.username ?? '',
      password: body.password ?? '',
      confirm: body.password2 ?? '',
    });
    if (result.ok) {
      const reset = result.invite.kind === 'reset';
      return sendHtml(reply, 200, site.views.render('success', {
        ...pageBase(site, reset ? 'Your password is changed' : 'Your account is ready'),
        jid: result.jid,
        reset,
        inviter: result.invite.inviter,
        platforms: site.clients.platforms,
      }));
    }
    if ('state' in result) return sendState(site, reply, result.state);
    // The form again, for the invite as it is now.
    const now = await site.service.lookup(token);
    if (now.state !== 'valid') return sendState(site, reply, now.state);
    return sendForm(site, reply, result.status, token, now.invite, { username: body.username, error: result.message, errorField: result.field });
  });
}
