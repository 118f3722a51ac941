// GET /invite/TOKEN (the landing page), /invite/TOKEN/app/APP (one app's steps)
// and /invite/TOKEN/qr.png (its QR codes).
import type { FastifyInstance, FastifyReply } from 'fastify';
import QRCode from 'qrcode';
import type { T } from '../i18n/i18n.js';
import type { Invite } from '../invites/types.js';
import { type Client, findClient, type Platform, storeUrl, type Translations } from './clients.js';
import { deadEndOf, sendDeadEnd } from './dead-ends.js';
import { inviteText, validUntil } from './invite-view.js';
import { hasForm } from './registration.js';
import { invitePath, pageBase, sendHtml, sendMessage, sendRedirect, sendState, type Site, visit } from './site.js';
import type { Device, Visit } from './visit.js';

type TokenParams = { Params: { token: string } };
type AppParams = { Params: { token: string; app: string } };
type QrRoute = { Params: { token: string }; Querystring: { of?: string } };

/** One app as a list shows it: its page, and its store links (a referrer link carrying the invite). */
export interface AppEntry {
  id: string;
  name: string;
  description: string;
  homepage: string;
  opensInvites: boolean;
  page: string;
  links: { label: string; url: string; referrer: boolean }[];
}

export interface PlatformEntry {
  id: string;
  name: string;
  apps: AppEntry[];
}

export function platformName(p: Pick<Platform, 'id' | 'name'>, t: T): string {
  return t(`web.platform.${p.id}`, { defaultValue: p.name });
}

/** A list's text in the visit's language, its English where it gives none. */
export function inLang(english: string, other: Translations | undefined, v: Visit): string {
  return (v.lang !== 'en' && other?.[v.lang]) || english;
}

function entry(site: Site, v: Visit, token: string, uri: string | undefined, c: Client): AppEntry {
  return {
    id: c.id,
    name: c.name,
    description: inLang(c.description, c.descriptions, v),
    homepage: c.homepage,
    opensInvites: c.opensInvites,
    page: invitePath(site, token, `/app/${encodeURIComponent(c.id)}`),
    links: c.links.map((l) => ({ label: inLang(l.label, l.labels, v), url: storeUrl(l, uri), referrer: l.referrer === true })),
  };
}

/** The visitor's platform first; the rest behind "All apps". Unknown device: every platform, open. */
export function platformsFor(site: Site, v: Visit, token: string, uri: string | undefined): { mine: PlatformEntry[]; others: PlatformEntry[] } {
  const all = site.clients.platforms.map((p) => ({ id: p.id, name: platformName(p, v.t), apps: p.clients.map((c) => entry(site, v, token, uri, c)) }));
  const device: Device | undefined = v.device;
  const mine = device ? all.filter((p) => p.id === device) : [];
  if (!mine.length) return { mine: all, others: [] };
  return { mine, others: all.filter((p) => p.id !== device) };
}

const isPhone = (v: Visit) => v.device === 'android' || v.device === 'ios';

/** A valid invite that still works, or the page saying why not (sent). */
async function usable(site: Site, v: Visit, reply: FastifyReply, token: string): Promise<Invite | undefined> {
  const found = await site.service.lookup(token);
  if (found.state !== 'valid') { sendState(site, v, reply, found.state); return undefined; }
  const dead = await deadEndOf(site, found.invite);
  if (dead) { sendDeadEnd(site, v, reply, dead); return undefined; }
  return found.invite;
}

export function landingRoutes(app: FastifyInstance, site: Site): void {
  app.get<TokenParams>('/invite/:token', async (req, reply) => {
    const { token } = req.params;
    const v = visit(site, req, reply);
    const invite = await usable(site, v, reply, token);
    if (!invite) return reply;
    const uri = site.service.uri(invite, token);
    const text = inviteText(invite, site.domain, v.t, site.admin);
    // XEP-0401: a client that fetches the page finds the invite URI without parsing HTML.
    reply.header('Link', `<${uri}>; rel="alternate"`);
    return sendHtml(reply, 200, site.views.render('landing', {
      ...pageBase(site, v, text.title, uri),
      lead: text.lead,
      roles: text.roles,
      kind: invite.kind,
      validUntil: validUntil(invite, site.now(), v.lang),
      formUrl: hasForm(invite) ? invitePath(site, token, '/register') : undefined,
      formLabel: text.formLabel,
      phone: isPhone(v),
      qrPage: invitePath(site, token, '/qr.png?of=page'),
      qrUri: invitePath(site, token, '/qr.png?of=uri'),
      ...platformsFor(site, v, token, uri),
    }));
  });

  app.get<AppParams>('/invite/:token/app/:app', async (req, reply) => {
    const { token } = req.params;
    const v = visit(site, req, reply);
    const invite = await usable(site, v, reply, token);
    if (!invite) return reply;
    // A reset is for an account that has its app already; and its token must never reach a store as a referrer.
    if (invite.kind === 'reset') return sendRedirect(reply, invitePath(site, token, '/register'));
    const found = findClient(site.clients, req.params.app);
    if (!found) return sendMessage(site, v, reply, 404, v.t('web.error.notFound.title'), v.t('web.error.notFound.lead'));
    const uri = site.service.uri(invite, token);
    const text = inviteText(invite, site.domain, v.t, site.admin);
    const a = entry(site, v, token, uri, found.client);
    const form = hasForm(invite) ? `${invitePath(site, token, '/register')}?app=${encodeURIComponent(a.id)}` : undefined;
    reply.header('Link', `<${uri}>; rel="alternate"`);
    return sendHtml(reply, 200, site.views.render('app', {
      ...pageBase(site, v, v.t('web.app.title', { app: a.name }), uri),
      app: a,
      ios: found.platform.id === 'ios',
      referrer: a.links.some((l) => l.referrer),
      inviteTitle: text.title,
      roles: text.roles,
      kind: invite.kind,
      inviter: invite.inviter,
      // An app that opens invites is handed the invite; any other makes its account on the web (or, for a contact invite, adds the contact by hand).
      opens: a.opensInvites,
      formUrl: form,
      landingUrl: invitePath(site, token),
      validUntil: validUntil(invite, site.now(), v.lang),
    }));
  });

  // ?of=page: the landing page's https address, for a phone's camera; otherwise (the bot's
  // link, ?of=uri) the xmpp: URI, for scanning inside an XMPP app.
  app.get<QrRoute>('/invite/:token/qr.png', async (req, reply) => {
    const { token } = req.params;
    const found = await site.service.lookup(token);
    if (found.state !== 'valid') return sendState(site, visit(site, req, reply), reply, found.state);
    const png = await qrPng(req.query.of === 'page'
      ? site.service.landingUrl(token) ?? `${site.publicUrl}/invite/${token}`
      : site.service.uri(found.invite, token));
    return reply
      .header('Cache-Control', 'no-store')
      // Web chat clients (Converse.js, Movim) show the image from their own origin.
      .header('Cross-Origin-Resource-Policy', 'cross-origin')
      .type('image/png')
      .send(png);
  });
}

/** The PNG the QR route sends for `text` (tests compare its bytes). */
export function qrPng(text: string): Promise<Buffer> {
  return QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 8 });
}
