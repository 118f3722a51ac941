// An XEP-0114 component stream over xmpp.js 0.14's TCP connection. We do not
// use @xmpp/component (0.13.1): it is CommonJS, drags in a second copy of every
// xmpp.js package, ships no types, and its reconnect has no backoff.
import { createHash } from 'node:crypto';
import ConnectionTCP from '@xmpp/connection-tcp';
import { type Element, xml } from '../xmpp/stanzas.js';

export const NS_COMPONENT = 'jabber:component:accept';

export class ComponentConnection extends ConnectionTCP {
  constructor(options: { service: string; domain: string; timeout?: number }) {
    super(options);
  }

  socketParameters(service: string) {
    const params = super.socketParameters(service);
    return params && { ...params, port: params.port ?? 5347 };
  }

  /** Stanzas on a component stream must carry `from`. */
  send(el: Element): Promise<void> {
    if (this.isStanza(el) && !el.attrs.from) el.attrs.from = this.options.domain;
    return super.send(el);
  }

  /** XEP-0114 handshake: SHA-1 of the stream id and the secret. */
  async authenticate(streamId: string, secret: string): Promise<void> {
    const digest = createHash('sha1').update(streamId + secret, 'utf8').digest('hex');
    const answer = await this.sendReceive(xml('handshake', {}, digest));
    if (!answer.is('handshake')) throw new Error('the server refused the component handshake');
    this._jid(this.options.domain!);
    this._ready(false);
  }
}
ComponentConnection.prototype.NS = NS_COMPONENT;
