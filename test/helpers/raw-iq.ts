// IQs sent and their replies taken as raw elements, whatever they contain: the
// fuzz tests inspect every reply themselves (xmpp.js's iqCaller cannot even
// parse an <error/> without a condition). Works on a logged-in client and on an
// unauthenticated stream (XEP-0077 / XEP-0445 before an account exists).
import ConnectionTCP from '@xmpp/connection-tcp';
import type { Element } from '@xmpp/xml';

export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

interface Entity {
  on(event: 'element', fn: (el: Element) => void): unknown;
  send(el: Element): Promise<void>;
}

let counter = 0;

export class RawIq {
  private readonly waiting = new Map<string, { resolve: (el: Element) => void; reject: (e: Error) => void }>();

  constructor(private readonly entity: Entity) {
    entity.on('element', (el) => {
      if (!el.is('iq') || (el.attrs.type !== 'result' && el.attrs.type !== 'error')) return;
      const id = String(el.attrs.id);
      const w = this.waiting.get(id);
      if (w) {
        this.waiting.delete(id);
        w.resolve(el);
      }
    });
  }

  /**
   * Send `iq` (an id is set) and resolve with the reply, result or error. With `giveUpMs`,
   * an IQ left unanswered that long rejects, naming itself (a failure, not a measurement).
   */
  request(iq: Element, giveUpMs?: number): Promise<Element> {
    const id = `raw-${++counter}`;
    iq.attrs.id = id;
    return new Promise<Element>((resolve, reject) => {
      const timer = giveUpMs === undefined ? undefined : setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no answer to ${iq.toString().slice(0, 400)}`));
      }, giveUpMs);
      const settle = <T>(fn: (v: T) => void) => (v: T) => { clearTimeout(timer); fn(v); };
      this.waiting.set(id, { resolve: settle(resolve), reject: settle(reject) });
      this.entity.send(iq).catch((e: Error) => {
        this.waiting.delete(id);
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  /** The stream is gone: no reply will come to what is still waiting. */
  failAll(reason: string): void {
    for (const [id, w] of [...this.waiting]) {
      this.waiting.delete(id);
      w.reject(new Error(reason));
    }
  }
}

/** Type, condition and text of an IQ error reply (undefined parts are missing). */
export function iqError(iq: Element): { type?: string; condition?: string; text?: string } | undefined {
  const error = iq.getChild('error');
  if (!error) return undefined;
  const condition = error.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== 'text')?.name;
  return { type: error.attrs.type, condition, text: error.getChildText('text', NS_STANZAS) ?? undefined };
}

class Unauthenticated extends ConnectionTCP {}
Unauthenticated.prototype.NS = 'jabber:client';

export interface UnauthenticatedStream {
  iq: RawIq;
  /** The stream features the server offered. */
  features: Element;
  /** Send any stanza exactly as given (no id is added). */
  send(el: Element): Promise<void>;
  closed: () => boolean;
  close(): Promise<void>;
}

/** An unauthenticated c2s stream, as a client has before registering. */
export async function openUnauthenticated(service: string, domain: string): Promise<UnauthenticatedStream> {
  const entity = new Unauthenticated({ service, domain });
  let closed = false;
  entity.on('error', () => {});
  const iq = new RawIq(entity);
  entity.on('disconnect', () => { closed = true; iq.failAll('the server closed the stream'); });
  const features = new Promise<Element>((resolve) => entity.on('nonza', (el: Element) => el.is('features', 'http://etherx.jabber.org/streams') && resolve(el)));
  await entity.connect(service);
  await entity.open({ domain });
  return {
    iq,
    features: await features,
    send: (el) => entity.send(el),
    closed: () => closed,
    close: () => entity.disconnect().then(() => undefined, () => undefined),
  };
}
