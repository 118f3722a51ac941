// GET /invite/TOKEN (the landing page) and /invite/TOKEN/qr.png (its QR code).
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import { inviteText, validUntil } from './invite-view.js';
import { hasForm } from './registration.js';
import { invitePath, pageBase, sendHtml, sendState, type Site } from './site.js';

type TokenParams = { Params: { token: string } };

export function landingRoutes(app: FastifyInstance, site: Site): void {
  app.get<TokenParams>('/invite/:token', async (req, reply) => {
    const { token } = req.params;
    const found = await site.service.lookup(token);
    if (found.state !== 'valid') return sendState(site, reply, found.state);
    const { invite } = found;
    const uri = site.service.uri(invite, token);
    const text = inviteText(invite, site.domain);
    // XEP-0401: a client that fetches the page finds the invite URI without parsing HTML.
    reply.header('Link', `<${uri}>; rel="alternate"`);
    return sendHtml(reply, 200, site.views.render('landing', {
      ...pageBase(site, text.title, uri),
      lead: text.lead,
      kind: invite.kind,
      validUntil: validUntil(invite, site.now()),
      formUrl: hasForm(invite) ? invitePath(site, token, '/register') : undefined,
      formLabel: text.formLabel,
      qrUrl: invitePath(site, token, '/qr.png'),
      platforms: site.clients.platforms,
    }));
  });

  app.get<TokenParams>('/invite/:token/qr.png', async (req, reply) => {
    const { token } = req.params;
    const found = await site.service.lookup(token);
    if (found.state !== 'valid') return sendState(site, reply, found.state);
    const png = await QRCode.toBuffer(site.service.uri(found.invite, token), { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 8 });
    return reply
      .header('Cache-Control', 'no-store')
      // Web chat clients (Converse.js, Movim) show the image from their own origin.
      .header('Cross-Origin-Resource-Policy', 'cross-origin')
      .type('image/png')
      .send(png);
  });
}
