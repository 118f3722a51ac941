// XMPP_DEBUG=1 prints every stanza the service sends and receives. Through a whole flow
// (invites from the bot and from ad-hoc commands, in-band registration and password reset
// with tokens, web registration and web reset, a XEP-0379 subscription), the service's
// output (stdout and stderr of the child process) must hold no password, no token, no
// component secret and no handshake digest. The output is also checked to contain the
// stanzas that carried them, redacted, so the search cannot pass on an empty log.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import xml, { type Element } from '@xmpp/xml';
import { bridgeOptions } from '../../src/server/prosody/bridge-setup.js';
import { freePorts } from '../../src/server/free-port.js';
import { LocalProsody } from '../../src/server/prosody/local-prosody.js';
import { NS_COMMANDS } from '../helpers/adhoc.js';
import { registerWith } from '../helpers/ibr.js';
import { RawIq } from '../helpers/raw-iq.js';
import { ServiceProcess } from '../helpers/service-process.js';
import { WebClient } from '../helpers/web.js';
import { connectUser, type User } from '../helpers/xmpp-user.js';

const DOMAIN = 'localhost';
const BOT = `invitebot@${DOMAIN}`;
const COMPONENT = `invites.${DOMAIN}`;
// Distinctive values, so that any trace of them is found.
const SECRET = 'Comp0nentSecret-q7XwZ';
const PASSWORDS = {
  bot: 'B0tPassword-k2LmNq',
  boss: 'B0ssPassword-v8RtYe',
  alice: 'Al1cePassword-p3DsWc',
  carol: 'Car0lPassword-j5HgFb',
  inBand: 'InBandPassword-x9QaZs',
  inBandReset: 'InBandReset-m4NbVc',
  web: 'WebPassword-t6YuIo',
  webReset: 'WebReset-r1EwQa',
};
const TOKEN = /preauth=([A-Za-z0-9_-]+)/;

describe('faults: no secret in the XMPP_DEBUG output (service as a child process)', function () {
  this.timeout(60_000);
  let dir: string;
  let prosody: LocalProsody;
  let service: ServiceProcess | undefined;
  const users: User[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'invites-secrets-'));
    prosody = await LocalProsody.start({ domain: DOMAIN, admins: [BOT], ...bridgeOptions(COMPONENT, SECRET) });
    await Promise.all([
      prosody.register('invitebot', PASSWORDS.bot),
      prosody.register('boss', PASSWORDS.boss),
      prosody.register('alice', PASSWORDS.alice),
      prosody.register('carol', PASSWORDS.carol),
    ]);
  });

  after(async () => {
    await Promise.all(users.map((u) => u.stop()));
    await service?.stop();
    await prosody?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('hides passwords, tokens, the component secret and its handshake through a whole flow', async () => {
    const [webPort] = await freePorts(1);
    const base = `http://127.0.0.1:${webPort}`;
    service = ServiceProcess.start({
      server: prosody, dir, botJid: BOT, botPassword: PASSWORDS.bot, componentDomain: COMPONENT, componentSecret: SECRET,
      admins: [`boss@${DOMAIN}`], extra: { XMPP_DEBUG: '1', PUBLIC_URL: base, HTTP_PORT: String(webPort) },
    });
    await service.ready();
    await service.waitFor(/web pages on /);
    const tokens: string[] = [];
    const take = (text: string | undefined) => {
      const t = TOKEN.exec(text ?? '')?.[1];
      if (!t) throw new Error(`no token in ${text}`);
      tokens.push(t);
      return t;
    };

    const [boss, alice, carol] = await Promise.all([
      connectUser(prosody.service, `boss@${DOMAIN}`, PASSWORDS.boss),
      connectUser(prosody.service, `alice@${DOMAIN}`, PASSWORDS.alice),
      connectUser(prosody.service, `carol@${DOMAIN}`, PASSWORDS.carol),
    ]);
    users.push(boss, alice, carol);

    // Invites from the bot, each followed by its QR code (whose URL carries the token too).
    const invite = async (user: User, command: string) => {
      await user.send(xml('message', { to: BOT, type: 'chat' }, xml('body', {}, command)));
      let reply: string | undefined;
      // Notices of earlier invites being used may come first.
      while (!TOKEN.test(reply ?? '')) {
        const el = await user.next(BOT, 5000);
        expect(el, `a reply to "${command}"`).to.exist;
        reply = el!.getChildText('body') ?? '';
      }
      const token = take(reply);
      const qr = await user.next(BOT, 5000);
      expect(qr?.getChild('x', 'jabber:x:oob')?.getChildText('url')).to.include(token);
      return token;
    };
    const account = await invite(boss, 'invite account');
    const accountContact = await invite(boss, 'invite');
    const reset = await invite(boss, 'invite reset alice');
    const contact = await invite(alice, 'invite contact');
    // Invites from ad-hoc commands: one stage at the bot, two stages at the component.
    const raw = new RawIq(boss.xmpp as never);
    const oneStage = await raw.request(xml('iq', { type: 'set', to: `${BOT}/bot` }, xml('command', { xmlns: NS_COMMANDS, node: 'urn:xmpp:invite#invite', action: 'execute' })));
    take(fieldValue(oneStage, 'uri'));
    const form = await raw.request(xml('iq', { type: 'set', to: COMPONENT }, xml('command', { xmlns: NS_COMMANDS, node: 'urn:xmpp:invite#create-account', action: 'execute' })));
    const sessionid = String(form.getChild('command', NS_COMMANDS)!.attrs.sessionid);
    const twoStage = await raw.request(xml('iq', { type: 'set', to: COMPONENT },
      xml('command', { xmlns: NS_COMMANDS, node: 'urn:xmpp:invite#create-account', sessionid, action: 'complete' },
        xml('x', { xmlns: 'jabber:x:data', type: 'submit' }, xml('field', { var: 'username' }, xml('value', {}, 'adhocuser'))))));
    take(fieldValue(twoStage, 'uri'));

    // In-band: an account, and a password reset.
    await registerWith(prosody.service, DOMAIN, { token: account, username: 'newbie', password: PASSWORDS.inBand });
    await registerWith(prosody.service, DOMAIN, { token: reset, username: 'alice', password: PASSWORDS.inBandReset });
    // On the web: an account (the bot runs XEP-0133 add-user), and a reset (change-user-password).
    const web = new WebClient(base);
    const made = await web.submit(`/invite/${accountContact}/register`, { username: 'webbie', password: PASSWORDS.web, password2: PASSWORDS.web });
    expect(made.status, made.body.slice(0, 300)).to.equal(200);
    const webReset = await invite(boss, 'invite reset newbie');
    const changed = await web.submit(`/invite/${webReset}/register`, { password: PASSWORDS.webReset, password2: PASSWORDS.webReset });
    expect(changed.status, changed.body.slice(0, 300)).to.equal(200);
    // XEP-0379: carol subscribes to alice with alice's contact token.
    const approved = new Promise<void>((resolve) => carol.xmpp.on('stanza', (el: Element) => {
      if (el.is('presence') && el.attrs.type === 'subscribe' && String(el.attrs.from).startsWith('alice@')) resolve();
    }));
    await carol.send(xml('presence', { to: `alice@${DOMAIN}`, type: 'subscribe' }, xml('preauth', { xmlns: 'urn:xmpp:pars:0', token: contact })));
    await approved;
    // Everything the flow did is done and its use recorded (the logins prove the passwords took).
    await Promise.all([
      connectUser(prosody.service, `newbie@${DOMAIN}`, PASSWORDS.webReset),
      connectUser(prosody.service, `webbie@${DOMAIN}`, PASSWORDS.web),
      connectUser(prosody.service, `alice@${DOMAIN}`, PASSWORDS.inBandReset),
    ].map((p) => p.then((u) => { users.push(u); })));

    await service.stop(); // flushes its output
    const out = service.output;

    // The output did show the stanzas that carried the secrets, redacted.
    for (const seen of [
      /bot IN .*mechanism/, // SASL
      /component IN .*<token [^>]*xmlns="urn:xmpp-invites:bridge:0"/, // preauth, asked by the bridge
      /component IN .*<register [^>]*xmlns="urn:xmpp-invites:bridge:0"/,
      /component IN .*<commit [^>]*xmlns="urn:xmpp-invites:bridge:0"/,
      /component IN .*<subscription [^>]*xmlns="urn:xmpp-invites:bridge:0"/,
      /bot OUT .*admin#add-user/, // the web registration's XEP-0133 command
      /bot OUT .*admin#change-user-password/,
      /xmpp:localhost\?register;preauth=\[hidden\]/, // an invite link in a chat reply
      /\/invite\/\[hidden\]\/qr\.png/, // the QR code's URL after it
      /<field var="uri"[^>]*><value>xmpp:[^<]*preauth=\[hidden\]/, // an invite in an ad-hoc result
    ]) expect(out, `the debug output shows ${seen}`).to.match(seen);

    // And no secret in it, in any form.
    expect(tokens).to.have.length(7);
    for (const t of tokens) {
      expect(out, 'a token').to.not.include(t);
      expect(out, 'half a token').to.not.include(t.slice(0, 12));
    }
    for (const [whose, pw] of Object.entries(PASSWORDS)) {
      expect(out, `the ${whose} password`).to.not.include(pw);
      expect(out, `the ${whose} password, base64`).to.not.include(Buffer.from(pw).toString('base64').replace(/=+$/, ''));
    }
    expect(out, 'SASL PLAIN of the bot').to.not.include(Buffer.from(`\0invitebot\0${PASSWORDS.bot}`).toString('base64').slice(0, 20));
    expect(out, 'the component secret').to.not.include(SECRET);
    // The handshake is a SHA-1 in hex; the stream id it hashes is not printed, so look for any.
    const handshakes = [...out.matchAll(/<handshake[^>]*>(.*?)<\/handshake>/g)].map((m) => m[1]);
    expect(handshakes.length, 'the handshake was printed').to.be.greaterThan(0);
    for (const content of handshakes) expect(content).to.be.oneOf(['[hidden]', '<hidden xmlns="xmpp.js"/>']);
    expect(out.match(/\b[0-9a-f]{40}\b/gi) ?? [], 'a SHA-1 digest').to.deep.equal([]);
    const ids = [...out.matchAll(/<stream:stream [^>]*\bid=["']([^"']+)/g)].map((m) => m[1]!);
    for (const id of ids) expect(out, 'the handshake digest').to.not.include(createHash('sha1').update(id + SECRET).digest('hex'));
  });
});

/** The first value of a field of the command's form. */
function fieldValue(iq: Element, name: string): string | undefined {
  const x = iq.getChild('command', NS_COMMANDS)?.getChild('x', 'jabber:x:data');
  return x?.getChildren('field').find((f) => f.attrs.var === name)?.getChildText('value') ?? undefined;
}
