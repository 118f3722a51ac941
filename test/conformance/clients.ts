// What real clients send when a person opens an invite link, stanza for stanza,
// as read from their sources (2025 code of each project; files and commits named
// per client below). The conformance suite replays each profile against a real
// Prosody with our bridge and component, so the tests encode what the world
// sends, not our reading of the XEPs.
import { randomUUID } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import { openUnauthenticated, type UnauthenticatedStream } from '../helpers/raw-iq.js';
import type { User } from '../helpers/xmpp-user.js';

export const NS_PARS = 'urn:xmpp:pars:0';
export const NS_REGISTER = 'jabber:iq:register';
const NS_ROSTER = 'jabber:iq:roster';
const NS_DATA = 'jabber:x:data';
const NS_NICK = 'http://jabber.org/protocol/nick';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';

/** An invite URI as these clients read it (XmppUri and its ports: path is the JID, `;`-separated query, first item the action). */
export interface ParsedUri {
  jid: string;
  action: string;
  params: Record<string, string>;
}

/** Conversations' XmppUri.java (Cheogram and Snikket share it), Monal's handleXMPPURL:, Siskin's XmppUri: the same reading. */
export function parseInviteUri(uri: string): ParsedUri {
  const m = /^xmpp:([^?]+)\?(.*)$/.exec(uri);
  if (!m) throw new Error(`not an xmpp: URI with a query: ${uri}`);
  const [action, ...rest] = m[2]!.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0) params[p.slice(0, eq).toLowerCase()] = decodeURIComponent(p.slice(eq + 1));
  }
  return { jid: decodeURIComponent(m[1]!), action: action!.toLowerCase(), params };
}

export type PreauthErrorHandling =
  /** Any error: "invalid invite", stop. */
  | 'stop'
  /** item-not-found: "invalid invite", stop; any other error: register without the token. */
  | 'stop-on-item-not-found';

export interface ClientProfile {
  name: string;
  /** Where each behaviour below was read. */
  sources: string[];
  /** The stream feature it checks before sending the token; without it the token is silently skipped. */
  tokenFeature: 'urn:xmpp:invite' | 'urn:xmpp:ibr-token:0';
  onPreauthError: PreauthErrorHandling;
  /** The token IQ, exactly as it sends it (ids are random). */
  preauth(domain: string, token: string): Element;
  /** Fetch the registration form, then submit it the client's way; resolves with the server's reply (result or error). */
  register(stream: UnauthenticatedStream, domain: string, username: string, password: string): Promise<Element>;
  /** Logged in after registering (or with an existing account): the stanzas for a `roster;preauth=T` invite. */
  subscribe(user: User, inviter: string, token: string): Promise<void>;
  /** Whether it answers the inviter's own subscription request at once (Conversations' PREEMPTIVE_GRANT). */
  grantsBack: boolean;
  /** Whether its subscription carries the token (XEP-0379); false: a plain request, decided by the inviter. */
  sendsContactToken: boolean;
}

const id = () => randomUUID();

/** The XEP-0445 token IQ, of `type`, with the client's own attributes (its `to`, if any). */
const preauthIq = (type: 'get' | 'set', token: string, attrs: Record<string, string> = {}) =>
  xml('iq', { ...attrs, type, id: id() }, xml('preauth', { xmlns: NS_PARS, token }));

async function registrationForm(stream: UnauthenticatedStream, domain: string): Promise<Element> {
  const reply = await stream.iq.request(xml('iq', { type: 'get', to: domain }, xml('query', { xmlns: NS_REGISTER })), 10_000);
  const query = reply.getChild('query', NS_REGISTER);
  if (reply.attrs.type !== 'result' || !query) throw new Error(`no registration form: ${reply.toString()}`);
  return query;
}

/** Legacy fields, as Conversations sends them when the form offers <username/> and <password/>. */
function legacyQuery(username: string, password: string): Element {
  return xml('query', { xmlns: NS_REGISTER }, xml('username', {}, username), xml('password', {}, password));
}

function submitForm(values: [string, string, string?][]): Element {
  return xml('x', { xmlns: NS_DATA, type: 'submit' },
    ...values.map(([v, value, type]) => xml('field', { var: v, ...(type ? { type } : {}) }, xml('value', {}, value))));
}

async function rosterSet(user: User, item: Record<string, string>): Promise<void> {
  await user.xmpp.iqCaller.request(xml('iq', { type: 'set', id: id() }, xml('query', { xmlns: NS_ROSTER }, xml('item', item))));
}

const local = (jid: string) => jid.split('@')[0]!;

/** Conversations 2022–2024 (the code Snikket and Cheogram builds of that time share). */
export const conversations2023: ClientProfile = {
  name: 'Conversations (2023)',
  sources: [
    'snikket-im/snikket-android src/main/java/eu/siacs/conversations/xmpp/XmppConnection.java @00dd9a80 (invite(): hasChild("register", "urn:xmpp:invite"); preauth Iq.Type.SET, no to; register1.setFrom(bare jid))',
    'ndrancs/cheogram-android src/main/java/eu/siacs/conversations/xmpp/XmppConnection.java @1c0b5253 (same code)',
    'src/main/java/eu/siacs/conversations/generator/PresenceGenerator.java @d1edb1dd (nick, then preauth); XmppConnectionService.pushContactToServer @0683b065 (roster set, then subscribe)',
  ],
  tokenFeature: 'urn:xmpp:invite',
  onPreauthError: 'stop',
  preauth: (_domain, token) => preauthIq('set', token),
  async register(stream, domain, username, password) {
    const form = await registrationForm(stream, domain);
    if (!form.getChild('username') || !form.getChild('password')) throw new Error('Conversations needs <username/> and <password/>');
    return stream.iq.request(xml('iq', { type: 'set', from: `${username}@${domain}` }, legacyQuery(username, password)), 10_000);
  },
  async subscribe(user, inviter, token) {
    await rosterSet(user, { jid: inviter, name: local(inviter) });
    await user.send(xml('presence', { type: 'subscribe', to: inviter },
      xml('nick', { xmlns: NS_NICK }, local(user.jid)), xml('preauth', { xmlns: NS_PARS, token })));
  },
  grantsBack: true,
  sendsContactToken: true,
};

/** Today's Conversations: RegistrationManager and the 2025 managers. */
export const conversations: ClientProfile = {
  name: 'Conversations',
  sources: [
    'snikket-im/snikket-android src/main/java/eu/siacs/conversations/xmpp/manager/RegistrationManager.java @91a23547 (Iq.Type.SET, setTo(domain); ItemNotFound -> InvalidTokenException, other errors -> getRegistration() without the token)',
    'christianrowlands/ninja-chat src/main/java/eu/siacs/conversations/xmpp/XmppConnection.java @01294ca3 (preAuthenticatedInBandRegistration(): urn:xmpp:ibr-token:0)',
    'snikket-im/snikket-android .../xmpp/manager/PresenceManager.java @0335fb87; RosterManager.addRosterItem (item without name, then subscribe with nick and preauth)',
  ],
  tokenFeature: 'urn:xmpp:ibr-token:0',
  onPreauthError: 'stop-on-item-not-found',
  preauth: (domain, token) => preauthIq('set', token, { to: domain }),
  async register(stream, domain, username, password) {
    const form = await registrationForm(stream, domain);
    if (!form.getChild('username') || !form.getChild('password')) throw new Error('Conversations needs <username/> and <password/>');
    return stream.iq.request(xml('iq', { type: 'set', to: domain }, legacyQuery(username, password)), 10_000);
  },
  async subscribe(user, inviter, token) {
    await rosterSet(user, { jid: inviter });
    await user.send(xml('presence', { type: 'subscribe', to: inviter },
      xml('nick', { xmlns: NS_NICK }, local(user.jid)), xml('preauth', { xmlns: NS_PARS, token })));
  },
  grantsBack: true,
  sendsContactToken: true,
};

/** Cheogram: Conversations' RegistrationManager with the token IQ as a `get`, and a MUC check before adding a contact. */
export const cheogram: ClientProfile = {
  ...conversations,
  name: 'Cheogram',
  sources: [
    'ndrancs/cheogram-android src/main/java/eu/siacs/conversations/xmpp/manager/RegistrationManager.java @5795afa4 (new Iq(Iq.Type.GET) with PreAuth; ItemNotFound -> invalid token, any other error -> register without it)',
    'ndrancs/cheogram-android .../xmpp/manager/RosterManager.java @5795afa4; StartConversationActivity.checkIfMuc (disco#info to the contact first)',
  ],
  preauth: (domain, token) => preauthIq('get', token, { to: domain }),
  async subscribe(user, inviter, token) {
    // Is it a group chat? An error (a user's bare JID may not answer a stranger) means no.
    await user.xmpp.iqCaller.request(xml('iq', { type: 'get', to: inviter, id: id() }, xml('query', { xmlns: NS_DISCO_INFO }))).catch(() => undefined);
    await rosterSet(user, { jid: inviter, name: local(inviter) });
    await user.send(xml('presence', { type: 'subscribe', to: inviter },
      xml('nick', { xmlns: NS_NICK }, local(user.jid)), xml('preauth', { xmlns: NS_PARS, token })));
  },
};

/** Snikket Android: Conversations' RegistrationManager in the version that sends a `get`. */
export const snikket: ClientProfile = {
  ...conversations,
  name: 'Snikket Android',
  sources: [
    'snikket-im/snikket-android src/main/java/eu/siacs/conversations/xmpp/manager/RegistrationManager.java @09562a8e (Iq.Type.GET, setTo(domain))',
    'snikket-im/snikket-android .../xmpp/manager/PresenceManager.java @0335fb87 (subscribe with nick and preauth)',
  ],
  preauth: (domain, token) => preauthIq('get', token, { to: domain }),
};

/** Monal (iOS, macOS). */
export const monal: ClientProfile = {
  name: 'Monal',
  sources: [
    'monal-im/Monal Monal/Classes/xmpp.m @7ee93f81 (handleFeaturesBeforeAuth: {urn:xmpp:ibr-token:0}register; submitRegToken: type set, to domain; any error -> "Could not submit registration token")',
    'monal-im/Monal Monal/Classes/MLRegisterViewController.m, XMPPIQ.m (registration always a jabber:x:data submit, no to)',
    'monal-im/Monal Monal/Classes/XMPPPresence.m, MLXMPPManager addContact:withPreauthToken: (subscribed, then subscribe with preauth; no roster set)',
  ],
  tokenFeature: 'urn:xmpp:ibr-token:0',
  onPreauthError: 'stop',
  preauth: (domain, token) => preauthIq('set', token, { xmlns: 'jabber:client', to: domain }),
  async register(stream, domain, username, password) {
    await registrationForm(stream, domain);
    return stream.iq.request(xml('iq', { xmlns: 'jabber:client', type: 'set', id: id() }, xml('query', { xmlns: NS_REGISTER },
      submitForm([['FORM_TYPE', NS_REGISTER, 'hidden'], ['username', username], ['password', password]]))), 10_000);
  },
  async subscribe(user, inviter, token) {
    await user.send(xml('presence', { xmlns: 'jabber:client', id: id(), to: inviter, type: 'subscribed' }));
    await user.send(xml('presence', { xmlns: 'jabber:client', id: id(), to: inviter, type: 'subscribe' }, xml('preauth', { xmlns: NS_PARS, token })));
  },
  grantsBack: false, // it pre-approved with `subscribed` before asking
  sendsContactToken: true,
};

/** Siskin IM (iOS), through the TigaseSwift / Martin library. */
export const siskin: ClientProfile = {
  name: 'Siskin IM',
  sources: [
    'tigase/Martin Sources/Martin/modules/InBandRegistrationModule.swift @619bb613 (ibrPreAuth = StreamFeature("register", "urn:xmpp:invite"); preauth type set, to domain; any error -> onErrorFn)',
    'tigase/siskin-im SiskinIM/settings/RegisterAccountController.swift @219a80e0 (a server data form is submitted back, with its hidden fields)',
    'tigase/siskin-im SiskinIM/roster/RosterItemEditViewController.swift @219a80e0 (roster set, then subscribe with preauth, then subscribed)',
  ],
  tokenFeature: 'urn:xmpp:invite',
  onPreauthError: 'stop',
  preauth: (domain, token) => preauthIq('set', token, { to: domain }),
  async register(stream, domain, username, password) {
    const query = await registrationForm(stream, domain);
    const form = query.getChild('x', NS_DATA);
    if (!form) return stream.iq.request(xml('iq', { type: 'set', to: domain }, legacyQuery(username, password)), 10_000);
    // The server's own fields come back, filled in (hidden ones with their values).
    const values = (form.getChildren('field') as Element[]).map((f): [string, string, string?] => {
      const v = String(f.attrs.var);
      const given = v === 'username' ? username : v === 'password' ? password : f.getChildText('value') ?? '';
      return [v, given, f.attrs.type === 'hidden' ? 'hidden' : undefined];
    });
    return stream.iq.request(xml('iq', { type: 'set', to: domain }, xml('query', { xmlns: NS_REGISTER }, submitForm(values))), 10_000);
  },
  async subscribe(user, inviter, token) {
    await rosterSet(user, { jid: inviter });
    await user.send(xml('presence', { to: inviter, type: 'subscribe' }, xml('preauth', { xmlns: NS_PARS, token })));
    await user.send(xml('presence', { to: inviter, type: 'subscribed' }));
  },
  grantsBack: false, // it sent `subscribed` right after asking
  sendsContactToken: true,
};

/** Borogove, the Snikket SDK (the new Snikket apps and Cheogram's web client are built on it). */
export const borogove: ClientProfile = {
  name: 'Borogove (Snikket SDK)',
  sources: [
    'snikket-im/snikket-sdk borogove/streams/XmppJsStream.hx @01b06564 (register(): only on the urn:xmpp:ibr-token:0 feature, preauth type set, to domain; any error ends the flow)',
    'snikket-im/snikket-sdk borogove/Register.hx @8052bd26 (fromXmppURI keeps the domain, the token and a bound username only; getForm: "No form found" without a jabber:x:data form; a bound username set as a fixed field; submit: set, to domain)',
    'snikket-im/snikket-sdk borogove/Form.hx @14882d44 (FormSubmitBuilder.submit: every form field that has a value and was not given, then the given ones)',
    'snikket-im/snikket-sdk borogove/Chat.hx @00d93f96 (DirectChat.bookmark(): roster set with jid only, then a plain subscribe, then subscribed when trusted; no XEP-0379 token, no nick)',
  ],
  tokenFeature: 'urn:xmpp:ibr-token:0',
  onPreauthError: 'stop',
  preauth: (domain, token) => preauthIq('set', token, { to: domain }),
  async register(stream, domain, username, password) {
    const query = await registrationForm(stream, domain);
    const form = query.getChild('x', NS_DATA);
    if (!form) throw new Error('Borogove: No form found');
    const given = new Map([['username', username], ['password', password]]);
    const values: [string, string, string?][] = [];
    for (const f of form.getChildren('field') as Element[]) {
      const v = String(f.attrs.var);
      const value = f.getChildText('value');
      if (!given.has(v) && value) values.push([v, value]);
    }
    for (const [v, value] of given) values.push([v, value]);
    return stream.iq.request(xml('iq', { type: 'set', to: domain, id: id() }, xml('query', { xmlns: NS_REGISTER }, submitForm(values))), 10_000);
  },
  async subscribe(user, inviter) {
    await rosterSet(user, { jid: inviter });
    await user.send(xml('presence', { to: inviter, type: 'subscribe', id: id() }));
    const item = (await user.xmpp.iqCaller.request(xml('iq', { type: 'get', id: id() }, xml('query', { xmlns: NS_ROSTER }))))
      .getChild('query', NS_ROSTER)?.getChildren('item').find((i: Element) => i.attrs.jid === inviter);
    // isTrusted(): a contact that already sees our presence.
    if (item && (item.attrs.subscription === 'both' || item.attrs.subscription === 'from')) {
      await user.send(xml('presence', { to: inviter, type: 'subscribed', id: id() }));
    }
  },
  grantsBack: false,
  sendsContactToken: false,
};

/**
 * What `client` does on opening a register invite, on a stream of its own: the token (if the
 * server offers the feature it checks), then, if that was accepted, its registration. The
 * replies it got; the stream is closed.
 */
export async function registerLike(client: ClientProfile, service: string, domain: string, token: string, username: string, password: string):
  Promise<{ preauth?: Element; register?: Element }> {
  const stream = await openUnauthenticated(service, domain);
  try {
    if (!stream.features.getChild('register', client.tokenFeature)) return {};
    const preauth = await stream.iq.request(client.preauth(domain, token), 10_000);
    if (preauth.attrs.type !== 'result') return { preauth };
    return { preauth, register: await client.register(stream, domain, username, password) };
  } finally {
    await stream.close();
  }
}

export const CLIENTS: readonly ClientProfile[] = [conversations, conversations2023, cheogram, snikket, monal, siskin, borogove];
