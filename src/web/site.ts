// What every route of the web side shares: the core, the views, where the
// pages live, and how a page is sent (never cached: their URLs carry tokens).
import type { FastifyReply } from 'fastify';
import type { InviteService } from '../invites/service.js';
import type { InviteState } from '../invites/types.js';
import type { AccountAdmin } from '../xmpp/admin-commands.js';
import type { ClientList } from './clients.js';
import { STATE_PAGE } from './invite-view.js';
import type { PageBase, Views } from './views.js';

export interface Site {
  service: InviteService;
  admin: AccountAdmin;
  clients: ClientList;
  views: Views;
  /** The server's domain, the site's name. */
  domain: string;
  /** PUBLIC_URL's path, '' at the root. */
  base: string;
  now: () => Date;
}

/** Path of an invite page: `/invite/TOKEN` plus `suffix`. */
export function invitePath(site: Site, token: string, suffix = ''): string {
  return `${site.base}/invite/${encodeURIComponent(token)}${suffix}`;
}

export function pageBase(site: Site, title: string, uri?: string): PageBase {
  return { site: site.domain, title, base: site.base, ...(uri ? { uri } : {}) };
}

export function sendHtml(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html);
}

/** The page for a token that cannot be used; the same for every path under it. */
export function sendState(site: Site, reply: FastifyReply, state: Exclude<InviteState, 'valid'>): FastifyReply {
  const page = STATE_PAGE[state];
  return sendHtml(reply, page.status, site.views.render('invalid', { ...pageBase(site, page.title), lead: page.lead }));
}

export function sendMessage(site: Site, reply: FastifyReply, status: number, title: string, message: string, back?: { url: string; label: string }): FastifyReply {
  return sendHtml(reply, status, site.views.render('message', {
    ...pageBase(site, title), message, tone: status >= 400 ? 'error' : '', backUrl: back?.url, backLabel: back?.label,
  }));
}
