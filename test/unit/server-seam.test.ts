// The server seam's pure parts against scripted answers, each copied from what the real
// server sent (Prosody 0.12.3 / 13.0.1, ejabberd 23.01; the real servers themselves:
// test/integration/xep0133.test.ts): existence without a bridge, the reset guard, and
// which adapter a server's answers choose.
import { expect } from 'chai';
import { ChosenServer, choiceText, detect } from '../../src/server/choose.js';
import { identify } from '../../src/server/identify.js';
import { AdminCommands, GET_USER_LASTLOGIN, USER_STATS } from '../../src/xmpp/admin-commands.js';
import { Xep0133Server } from '../../src/server/xep0133/adapter.js';
import { type Element, xml } from '../../src/xmpp/stanzas.js';
import { captureStderr } from '../helpers/stderr.js';

const NS_C = 'http://jabber.org/protocol/commands';
const NS_BRIDGE = 'urn:xmpp-invites:bridge:0';

/** A server that answers by what was asked; records every request. */
function server(answer: (iq: Element) => Element | Error) {
  const sent: Element[] = [];
  return {
    sent,
    async request(iq: Element): Promise<Element> {
      sent.push(iq);
      const a = answer(iq);
      if (a instanceof Error) throw a;
      return a;
    },
  };
}

const stanzaError = (condition: string, text?: string) => Object.assign(new Error(condition), { condition, text });
const cmdOf = (iq: Element) => iq.getChild('command', NS_C);
const valueOf = (iq: Element, name: string) => cmdOf(iq)?.getChild('x', 'jabber:x:data')?.getChildren('field').find((f) => f.attrs.var === name)?.getChildText('value');
const executing = (node: string) => xml('iq', { type: 'result' }, xml('command', { xmlns: NS_C, node, sessionid: 's1', status: 'executing' }));
const completed = (node: string, ...children: Element[]) => xml('iq', { type: 'result' }, xml('command', { xmlns: NS_C, node, sessionid: 's1', status: 'completed' }, ...children));
const resultForm = (fields: Record<string, string>) => xml('x', { xmlns: 'jabber:x:data', type: 'result' },
  ...Object.entries(fields).map(([k, v]) => xml('field', { var: k }, xml('value', {}, v))));
const note = (text: string) => xml('note', { type: 'error' }, text);

/** Prosody's mod_admin_adhoc: user-stats says "User does not exist" for no account. */
function prosody(accounts: string[]) {
  return server((iq) => {
    const cmd = cmdOf(iq);
    if (!cmd) return xml('iq', { type: 'result' }, xml('query', { xmlns: 'jabber:iq:version' }, xml('name', {}, 'Prosody'), xml('version', {}, '0.12.3')));
    if (cmd.attrs.action === 'execute') return executing(String(cmd.attrs.node));
    const jid = valueOf(iq, 'accountjid')!;
    if (cmd.attrs.node === USER_STATS) return accounts.includes(jid) ? completed(USER_STATS, resultForm({ rostersize: '0' })) : completed(USER_STATS, note('User does not exist'));
    if (cmd.attrs.node === GET_USER_LASTLOGIN) return stanzaError('service-unavailable');
    return completed(String(cmd.attrs.node), accounts.includes(jid) ? xml('note', { type: 'info' }, 'Password successfully changed') : note('User does not exist'));
  });
}

/** ejabberd 23.01's mod_configure: user-stats answers a form for any name; get-user-lastlogin says "Never" for no account. */
function ejabberd(accounts: string[]) {
  return server((iq) => {
    const cmd = cmdOf(iq)!;
    if (cmd.attrs.action === 'execute') return executing(String(cmd.attrs.node));
    const jid = valueOf(iq, 'accountjid')!;
    if (cmd.attrs.node === USER_STATS) return completed(USER_STATS, resultForm({ accountjid: jid, rostersize: '0' }));
    if (cmd.attrs.node === GET_USER_LASTLOGIN) return completed(GET_USER_LASTLOGIN, resultForm({ accountjid: jid, lastlogin: accounts.includes(jid) ? '2026-12-01 16:52:13' : 'Never' }));
    return accounts.includes(jid) ? completed(String(cmd.attrs.node)) : stanzaError('item-not-found', 'No hook has processed this command');
  });
}

const passwordsSent = (s: { sent: Element[] }) => s.sent.map((iq) => valueOf(iq, 'password')).filter(Boolean);

describe('server seam: XEP-0133 adapter without a bridge', () => {
  it('Prosody: an account exists when user-stats answers its form, not when it says "User does not exist"', async () => {
    const s = new Xep0133Server(new AdminCommands(prosody(['alice@example.org']), 'example.org'), { name: 'prosody', source: 'xep0092' });
    expect(await s.account('alice@example.org')).to.deep.equal({ exists: true, admin: false });
    expect(await s.account('ghost@example.org')).to.deep.equal({ exists: false, admin: false });
  });

  it('ejabberd: get-user-lastlogin "Never" is no account, a time is one; user-stats is not trusted', async () => {
    const iq = ejabberd(['alice@example.org']);
    const s = new Xep0133Server(new AdminCommands(iq, 'example.org'), { name: 'ejabberd', version: '23.01-1', source: 'xep0092' }, ['jabber:iq:last']);
    expect(await s.account('alice@example.org')).to.deep.equal({ exists: true, admin: false });
    expect(await s.account('ghost@example.org')).to.deep.equal({ exists: false, admin: false });
    expect(iq.sent.some((q) => cmdOf(q)?.attrs.node === USER_STATS)).to.equal(false);
  });

  it('ejabberd without mod_last ("Never" for everyone): existence not known', async () => {
    const s = new Xep0133Server(new AdminCommands(ejabberd(['alice@example.org']), 'example.org'), { name: 'ejabberd', source: 'xep0092' }, []);
    expect(await s.account('alice@example.org')).to.equal(undefined);
  });

  it('another server answering user-stats with a form for a name: not taken as "exists"', async () => {
    const s = new Xep0133Server(new AdminCommands(ejabberd([]), 'example.org'), { name: 'tigase', source: 'xep0092' });
    expect(await s.account('ghost@example.org')).to.equal(undefined);
  });

  it('a reset of a missing account is refused before any password is sent (both servers)', async () => {
    for (const [iq, software] of [[ejabberd([]), 'ejabberd'], [prosody([]), 'prosody']] as const) {
      const s = new Xep0133Server(new AdminCommands(iq, 'example.org'), { name: software, source: 'xep0092' }, ['jabber:iq:last']);
      expect(await s.changePassword('ghost', 'secret-pw-1'), software).to.include({ ok: false, reason: 'no-such-user' });
      expect(passwordsSent(iq), software).to.deep.equal([]);
    }
  });

  it('ejabberd: a reset whose account cannot be confirmed is refused, no password sent; a known one is changed', async () => {
    const iq = ejabberd(['alice@example.org']);
    const blind = new Xep0133Server(new AdminCommands(iq, 'example.org'), { name: 'ejabberd', source: 'xep0092' }, []);
    expect(await blind.changePassword('alice', 'secret-pw-1')).to.include({ ok: false, reason: 'refused' });
    expect(passwordsSent(iq)).to.deep.equal([]);
    const seeing = new Xep0133Server(new AdminCommands(iq, 'example.org'), { name: 'ejabberd', source: 'xep0092' }, ['jabber:iq:last']);
    expect(await seeing.changePassword('alice', 'secret-pw-1')).to.deep.equal({ ok: true });
    expect(passwordsSent(iq)).to.deep.equal(['secret-pw-1']);
  });

  it('makes no contacts and gives no roles, and says why', async () => {
    const s = new Xep0133Server(new AdminCommands(prosody([]), 'example.org'), { name: 'prosody', version: '13.0.1', source: 'xep0092' });
    expect(await s.makeContacts()).to.deep.equal({ outcome: 'unsupported', why: 'Prosody 13.0.1 without mod_invites_bridge cannot make two accounts contacts' });
    expect((await s.grantRoles()).outcome).to.equal('unsupported');
    expect([s.makesContacts, s.grantsRoles]).to.deep.equal([false, false]);
  });
});

describe('server seam: which adapter', () => {
  const bridgeAnswering = (info: Element | Error, account?: { exists: boolean; admin: boolean }) => ({
    online: true,
    info: async () => (info instanceof Error ? null : { server: String(info.attrs.server), version: String(info.attrs.version) }),
    account: async () => account,
    nodeprep: async () => undefined,
    grant: async () => {},
    befriend: async () => {},
  });
  const bot = () => prosody([]);

  it('a bridge that answers info picks its server\'s adapter', async () => {
    const admin = new AdminCommands(bot(), 'example.org');
    const e = await detect({ admin, iq: bot(), botJid: 'bot@example.org', bridge: bridgeAnswering(xml('info', { xmlns: NS_BRIDGE, server: 'ejabberd', version: '23.01' })) });
    expect([e.adapter.kind, e.adapter.software?.name, e.adapter.software?.version, e.adapter.grantsRoles, e.adapter.makesContacts]).to.deep.equal(['ejabberd', 'ejabberd', '23.01', false, true]);
    expect(choiceText(e)).to.include('the roles of invites stay this service\'s').and.include('acl: admin');
    const p = await detect({ admin, iq: bot(), botJid: 'bot@example.org', bridge: bridgeAnswering(xml('info', { xmlns: NS_BRIDGE, server: 'prosody', version: '13.0.1' })) });
    expect([p.adapter.kind, p.adapter.grantsRoles]).to.deep.equal(['prosody', true]);
  });

  it('an older bridge without info, found by its account answer: Prosody\'s', async () => {
    const e = await detect({ admin: new AdminCommands(bot(), 'example.org'), iq: bot(), botJid: 'bot@example.org', bridge: bridgeAnswering(new Error(), { exists: true, admin: true }) });
    expect([e.adapter.kind, e.bridge?.via, e.adapter.software]).to.deep.equal(['prosody', 'account', { name: 'prosody', version: '0.12.3', source: 'xep0092' }]);
  });

  it('no bridge (or no component): XEP-0133, with the software XEP-0092 names', async () => {
    const silent = { ...bridgeAnswering(new Error()), account: async () => undefined };
    const e = await detect({ admin: new AdminCommands(bot(), 'example.org'), iq: bot(), botJid: 'bot@example.org', bridge: silent });
    expect([e.adapter.kind, e.adapter.software?.name]).to.deep.equal(['xep0133', 'prosody']);
    expect(choiceText(e)).to.match(/^server: Prosody 0\.12\.3 without mod_invites_bridge/);
    const alone = await detect({ admin: new AdminCommands(bot(), 'example.org'), iq: bot(), botJid: 'bot@example.org' });
    expect(alone.adapter.kind).to.equal('xep0133');
  });

  it('the chosen adapter is logged once per choice, and chosen again when the bridge comes or goes', async () => {
    let info: Element | Error = new Error();
    const bridge = { ...bridgeAnswering(new Error()), info: async () => (info instanceof Error ? null : { server: 'ejabberd', version: '24.12' }) };
    const chosen = new ChosenServer({ admin: new AdminCommands(bot(), 'example.org'), iq: bot(), botJid: 'bot@example.org', bridge });
    const { stderr } = await captureStderr(async () => {
      expect((await chosen.account('ghost@example.org'))?.exists, 'the first call waits for the choice').to.equal(false);
      await chosen.choose();
      expect(chosen.kind).to.equal('xep0133');
      info = xml('info', { xmlns: NS_BRIDGE, server: 'ejabberd', version: '24.12' });
      await chosen.choose();
      await chosen.choose();
    });
    expect(chosen.kind).to.equal('ejabberd');
    const lines = stderr.split('\n').filter((l) => l.includes('server: '));
    expect(lines).to.have.length(2);
    expect(lines[0]).to.include('server: Prosody 0.12.3 without mod_invites_bridge');
    expect(lines[1]).to.include('server: ejabberd 24.12 with mod_invites_bridge').and.include('the roles of invites stay this service\'s');
  });

  it('software from the disco#info identity when XEP-0092 is not answered', async () => {
    const iq = server((q) => {
      if (q.getChild('query', 'jabber:iq:version')) return stanzaError('service-unavailable');
      return xml('iq', { type: 'result' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' },
        xml('identity', { category: 'server', type: 'im', name: 'ejabberd' }), xml('feature', { var: 'jabber:iq:last' })));
    });
    expect(await identify(iq, 'example.org')).to.deep.equal({ software: { name: 'ejabberd', source: 'disco' }, features: ['jabber:iq:last'] });
  });
});
