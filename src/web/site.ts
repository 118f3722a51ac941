// What every route of the web side shares: the core, the views, where the
// pages live, and how a page is sent (never cached: their URLs carry tokens).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FollowUpOutcome } from '../follow-ups.js';
import type { Lang } from '../i18n/i18n.js';
import type { InviteService } from '../invites/service.js';
import type { InviteState } from '../invites/types.js';
import type { AccountAdmin, XmppServer } from '../server/server.js';
import type { ClientList } from './clients.js';
import { STATE_PAGE } from './invite-view.js';
import { type Visit, visitOf } from './visit.js';
import type { PageBase, Views } from './views.js';

/** What the web form can learn of a registration's follow-up (contacts made), waiting at most `waitMs`. */
export interface FollowUps {
  outcome(inviteId: string, usedBy: string, waitMs: number): Promise<FollowUpOutcome | undefined>;
}

export interface Site {
  service: InviteService;
  /** The server seam's account calls; `makesContacts`/`grantsRoles` (when known) keep the success page truthful. */
  admin: AccountAdmin & Partial<Pick<XmppServer, 'makesContacts' | 'grantsRoles'>>;
  clients: ClientList;
  views: Views;
  /** The server's domain, the site's name. */
  domain: string;
  /** PUBLIC_URL's path, '' at the root. */
  base: string;
  /** PUBLIC_URL itself, without a trailing slash: the address a phone's camera opens. */
  publicUrl: string;
  secure: boolean;
  /** DEFAULT_LANGUAGE: the pages' language when the visitor's is not one we have. */
  language: Lang;
  /** The bot's address (BOT_JID), named on the success page. */
  botJid?: string;
  followUps?: FollowUps;
  now: () => Date;
}

/** Path of an invite page: `/invite/TOKEN` plus `suffix`. */
export function invitePath(site: Site, token: string, suffix = ''): string {
  return `${site.base}/invite/${encodeURIComponent(token)}${suffix}`;
}

export function visit(site: Site, req: FastifyRequest, reply?: FastifyReply): Visit {
  return visitOf(req, reply, { fallback: site.language, base: site.base, secure: site.secure });
}

export function pageBase(site: Site, v: Visit, title: string, uri?: string): PageBase {
  return { site: site.domain, title, base: site.base, lang: v.lang, t: v.t, languages: v.languages, ...(uri ? { uri } : {}) };
}

export function sendHtml(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).header('Cache-Control', 'no-store').header('Vary', 'Accept-Language, Cookie, User-Agent')
    .type('text/html; charset=utf-8').send(html);
}

/** A 303 to another page; never cached, as the pages are not (their URLs carry tokens). */
export function sendRedirect(reply: FastifyReply, path: string): FastifyReply {
  return reply.header('Cache-Control', 'no-store').redirect(path, 303);
}

/** The page for a token that cannot be used; the same for every path under it. */
export function sendState(site: Site, v: Visit, reply: FastifyReply, state: Exclude<InviteState, 'valid'>): FastifyReply {
  const page = STATE_PAGE[state];
  return sendHtml(reply, page.status, site.views.render('invalid', { ...pageBase(site, v, v.t(`web.state.${state}.title`)), lead: v.t(`web.state.${state}.lead`) }));
}

export function sendMessage(site: Site, v: Visit, reply: FastifyReply, status: number, title: string, message: string, back?: { url: string; label: string }): FastifyReply {
  return sendHtml(reply, status, site.views.render('message', {
    ...pageBase(site, v, title), message, tone: status >= 400 ? 'error' : '', backUrl: back?.url, backLabel: back?.label,
  }));
}
