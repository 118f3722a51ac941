// XEP-0050 invite commands end to end: a real Prosody, the service, and xmpp.js
// users running each command. The suite takes the address as a parameter, so
// the same checks run wherever the commands are offered.
import { expect } from 'chai';
import xml, { type Element } from '@xmpp/xml';
import { NODE } from '../../src/adhoc/commands.js';
import { command, errorOf, fieldsOf, formOf, invitationOf, notesOf, rowsOf, tokenOf } from '../helpers/adhoc.js';
import { BOT, DOMAIN, serverName, type Stack, startStack } from '../helpers/stack.js';
import type { User } from '../helpers/xmpp-user.js';

const NS_COMMANDS = 'http://jabber.org/protocol/commands';

/** Where the commands are offered: the address, found from the running stack. */
export const ADDRESSES: { name: string; address: (stack: Stack) => string }[] = [
  { name: "the bot's full JID", address: (s) => `${BOT}/${s.app.config.botResource}` },
  { name: "the component's domain", address: (s) => s.app.config.componentDomain },
];

/** The stanza error of a refused request. */
async function refusal(p: Promise<unknown>): Promise<ReturnType<typeof errorOf>> {
  try {
    await p;
  } catch (e) {
    const el = (e as { element?: Element }).element;
    if (el) return errorOf(el);
    throw e;
  }
  throw new Error('expected an IQ error');
}

for (const where of ADDRESSES) {
  describe(`ad-hoc commands at ${where.name} (real ${serverName()})`, function () {
    this.timeout(60_000);
    let stack: Stack;
    let at: string;
    let boss: User; // admin (ADMINS)
    let alice: User; // ordinary local user
    let eve: User; // user of another domain on the same server

    before(async () => {
      stack = await startStack({ MAX_INVITES_PER_USER: '5' }, { prosody: { extraHosts: [{ domain: 'other.localhost' }] } });
      at = where.address(stack);
      [boss, alice, eve] = await Promise.all([stack.user(`boss@${DOMAIN}`), stack.user(`alice@${DOMAIN}`), stack.user('eve@other.localhost')]);
    });
    after(() => stack?.stop());

    const iq = (u: User, type: 'get' | 'set', child: Element): Promise<Element> => u.xmpp.iqCaller.request(xml('iq', { type, to: at }, child));
    /** Run one command stage; the <command/> of the result. */
    const run = async (u: User, node: string, attrs: Record<string, string> = {}, values?: Record<string, string>) =>
      (await iq(u, 'set', command(node, attrs, values))).getChild('command', NS_COMMANDS)!;
    const items = async (u: User) => {
      const res = await iq(u, 'get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#items', node: NS_COMMANDS }));
      return res.getChild('query')!.getChildren('item').map((i) => ({ ...i.attrs }));
    };
    /** The invitation result form: checks its shape, returns the uri and what the core says of its token. */
    const invitation = async (cmd: Element) => {
      const { fields, uri } = invitationOf(cmd);
      expect(fields).to.not.have.property('landing-url'); // no PUBLIC_URL here
      return { uri, lookup: await stack.app.service.lookup(tokenOf(uri)) };
    };

    describe('disco', () => {
      it('disco#info names the commands feature', async () => {
        const res = await iq(alice, 'get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }));
        const q = res.getChild('query')!;
        expect(q.getChildren('feature').map((f) => f.attrs.var)).to.include(NS_COMMANDS).and.include('jabber:x:data');
        expect(q.getChildren('identity')).to.have.length.greaterThan(0);
      });

      it('disco#items lists every command for an admin, fewer for a user, none for another domain', async () => {
        const forBoss = await items(boss);
        expect(forBoss.map((i) => i.node)).to.deep.equal([
          NODE.invite, NODE.inviteOptions, NODE.createAccount, NODE.reset, NODE.list, NODE.revoke,
          NODE.groups, NODE.groupCreate, NODE.groupAdd, NODE.groupRemove,
        ]);
        for (const i of forBoss) expect(i.jid).to.equal(at);
        expect(forBoss[0]!.name).to.equal('Create new contact invite');
        expect(forBoss[2]!.name).to.equal('Create new account invite');
        expect((await items(alice)).map((i) => i.node)).to.deep.equal([NODE.invite, NODE.inviteOptions, NODE.list, NODE.revoke]);
        expect(await items(eve)).to.deep.equal([]);
      });
    });

    describe('as an ordinary user', () => {
      it('urn:xmpp:invite#invite gives a contact invite whose token the core accepts', async () => {
        const { uri, lookup } = await invitation(await run(alice, NODE.invite, { action: 'execute' }));
        expect(uri).to.match(new RegExp(`^xmpp:alice@${DOMAIN}\\?roster;preauth=[A-Za-z0-9_-]{24}$`));
        expect(lookup.state).to.equal('valid');
        expect(lookup.invite?.createdBy).to.equal(`alice@${DOMAIN}`);
      });

      it('the admin commands are forbidden, with a sentence', async () => {
        for (const node of [NODE.createAccount, NODE.reset]) {
          const e = await refusal(run(alice, node, { action: 'execute' }));
          expect(e, node).to.include({ condition: 'forbidden', text: 'Only administrators can create account and password-reset invites.' });
        }
      });

      it('users of another domain may run nothing', async () => {
        expect(await refusal(run(eve, NODE.invite))).to.include({ condition: 'forbidden', text: `Only accounts on ${DOMAIN} can create invites.` });
        expect(await refusal(run(eve, NODE.list))).to.include({ condition: 'forbidden' });
      });

      it('lists their own invites at once, as a table', async () => {
        const listed = await run(alice, NODE.list, { action: 'execute' });
        expect(listed.attrs.status).to.equal('completed');
        const rows = rowsOf(formOf(listed));
        expect(rows).to.have.length(1);
        expect(rows[0]).to.deep.include({ kind: 'contact', 'created-by': `alice@${DOMAIN}` });
      });

      it('revokes one of theirs chosen from a list-single', async () => {
        const { lookup } = await invitation(await run(alice, NODE.invite));
        const first = await run(alice, NODE.revoke, { action: 'execute' });
        expect(first.attrs.status).to.equal('executing');
        const id = fieldsOf(formOf(first)).id!;
        expect(id.type).to.equal('list-single');
        expect(id.options).to.include(lookup.invite!.id);
        const done = await run(alice, NODE.revoke, { sessionid: first.attrs.sessionid, action: 'complete' }, { id: lookup.invite!.id });
        expect(done.attrs.status).to.equal('completed');
        expect(notesOf(done)[0]!.text).to.equal(`Invite ${lookup.invite!.id} is revoked: it can no longer be used.`);
        expect(stack.app.service.stateOf((await stack.app.store.get(lookup.invite!.id))!)).to.equal('revoked');
      });
    });

    describe('as an admin', () => {
      it('urn:xmpp:invite#invite gives account+contact (ibr=y)', async () => {
        const { uri, lookup } = await invitation(await run(boss, NODE.invite));
        expect(uri).to.match(new RegExp(`^xmpp:boss@${DOMAIN}\\?roster;preauth=[A-Za-z0-9_-]{24};ibr=y$`));
        expect(lookup.state).to.equal('valid');
      });

      it('urn:xmpp:invite#create-account: form, then an invite bound to the username', async () => {
        const first = await run(boss, NODE.createAccount, { action: 'execute' });
        expect(first.attrs.status).to.equal('executing');
        expect(first.attrs.sessionid).to.be.a('string');
        const x = formOf(first)!;
        expect(x.attrs.type).to.equal('form');
        const f = fieldsOf(x);
        expect(f.username!.type).to.equal('text-single');
        expect(f['roster-subscription']!.type).to.equal('boolean');
        expect(f.role).to.deep.include({ type: 'list-single', options: ['none', 'admin', 'member', 'registered', 'guest'] });
        const done = await run(boss, NODE.createAccount, { sessionid: first.attrs.sessionid, action: 'complete' }, { username: 'juliet', 'roster-subscription': '0' });
        expect(done.attrs.sessionid).to.equal(first.attrs.sessionid);
        const { uri, lookup } = await invitation(done);
        expect(uri).to.match(new RegExp(`^xmpp:juliet@${DOMAIN}\\?register;preauth=[A-Za-z0-9_-]{24}$`));
        expect(lookup.state).to.equal('valid');
        expect(lookup.invite).to.deep.include({ kind: 'account', username: 'juliet' });
      });

      it('create-account with roster-subscription, and with the admin role', async () => {
        let first = await run(boss, NODE.createAccount);
        const contact = await invitation(await run(boss, NODE.createAccount, { sessionid: first.attrs.sessionid }, { 'roster-subscription': '1' }));
        expect(contact.uri).to.match(/\?roster;preauth=[^;]+;ibr=y$/);
        expect(contact.lookup.invite?.kind).to.equal('account-contact');
        first = await run(boss, NODE.createAccount);
        const admin = await invitation(await run(boss, NODE.createAccount, { sessionid: first.attrs.sessionid }, { role: 'admin' }));
        expect(admin.lookup.invite?.roles).to.deep.equal(['admin']);
      });

      it('an invalid username gives the form again with an error note; cancel ends the session', async () => {
        const first = await run(boss, NODE.createAccount);
        const sid = first.attrs.sessionid;
        const again = await run(boss, NODE.createAccount, { sessionid: sid, action: 'complete' }, { username: 'no/slash' });
        expect(again.attrs).to.include({ status: 'executing', sessionid: sid });
        expect(notesOf(again)).to.deep.equal([{ type: 'error', text: '"no/slash" is not a valid username.' }]);
        expect(fieldsOf(formOf(again)).username!.values).to.deep.equal(['no/slash']);
        const canceled = await run(boss, NODE.createAccount, { sessionid: sid, action: 'cancel' });
        expect(canceled.attrs).to.include({ status: 'canceled', sessionid: sid });
        expect(await refusal(run(boss, NODE.createAccount, { sessionid: sid, action: 'complete' }, { username: 'ok' })))
          .to.include({ type: 'modify', condition: 'bad-request', app: 'bad-sessionid' });
      });

      it("someone else's or an unknown sessionid: bad-request with bad-sessionid", async () => {
        const first = await run(boss, NODE.reset);
        const bad = { condition: 'bad-request', app: 'bad-sessionid' };
        expect(await refusal(run(alice, NODE.reset, { sessionid: first.attrs.sessionid }, { accountjid: `alice@${DOMAIN}` }))).to.include(bad);
        expect(await refusal(run(boss, NODE.reset, { sessionid: 'made-up' }, { accountjid: `alice@${DOMAIN}` }))).to.include(bad);
        // The owner's session was not disturbed.
        await invitation(await run(boss, NODE.reset, { sessionid: first.attrs.sessionid }, { accountjid: `alice@${DOMAIN}` }));
      });

      it('an unknown node: item-not-found', async () => {
        expect(await refusal(run(boss, 'urn:xmpp:invite#nothing'))).to.include({ condition: 'item-not-found' });
      });

      it('password reset: a jid-single accountjid, which must be a local account', async () => {
        const first = await run(boss, NODE.reset, { action: 'execute' });
        expect(fieldsOf(formOf(first)).accountjid).to.deep.include({ type: 'jid-single', required: true });
        const sid = first.attrs.sessionid;
        const foreign = await run(boss, NODE.reset, { sessionid: sid, action: 'complete' }, { accountjid: 'eve@other.localhost' });
        expect(foreign.attrs.status).to.equal('executing');
        expect(notesOf(foreign)).to.deep.equal([{ type: 'error', text: `"eve@other.localhost" is not an account on ${DOMAIN}; enter one as user@${DOMAIN}.` }]);
        const { uri, lookup } = await invitation(await run(boss, NODE.reset, { sessionid: sid, action: 'complete' }, { accountjid: `alice@${DOMAIN}` }));
        expect(uri).to.match(new RegExp(`^xmpp:alice@${DOMAIN}\\?register;preauth=`));
        expect(lookup.state).to.equal('valid');
        expect(lookup.invite).to.deep.include({ kind: 'reset', username: 'alice' });
      });

      it('answers in the xml:lang of the request: forms, notes and IQ errors', async () => {
        const de = (await boss.xmpp.iqCaller.request(xml('iq', { type: 'set', to: at, 'xml:lang': 'de' }, command(NODE.createAccount)))).getChild('command', NS_COMMANDS)!;
        const x = formOf(de)!;
        expect(x.getChildText('title')).to.equal('Neue Kontoeinladung erstellen');
        expect(x.getChildren('field').map((f) => [f.attrs.var, f.attrs.label])).to.deep.equal([
          ['username', 'Benutzername'], ['roster-subscription', 'Das neue Konto zu meinen Kontakten hinzufügen'], ['role', 'Rolle'],
          ['expires-after', 'Gültig für'], ['uses', 'Anzahl der Verwendungen'], ['note', 'Notiz']]);
        expect(fieldsOf(x).role!.options).to.deep.equal(['none', 'admin', 'member', 'registered', 'guest']);
        // The <command/> may name its own language; it wins over the IQ's.
        const es = (await boss.xmpp.iqCaller.request(xml('iq', { type: 'set', to: at, 'xml:lang': 'de' },
          command(NODE.createAccount, { sessionid: de.attrs.sessionid, 'xml:lang': 'es' }, { username: 'romeo' })))).getChild('command', NS_COMMANDS)!;
        expect(notesOf(es)[0]!.text).to.match(/^Invitación de cuenta [a-z0-9]{8}, válida hasta el .* \(dentro de 7 días\)\. Compártela solo/);
        expect(formOf(es)!.getChildText('title')).to.equal('Se ha creado tu invitación');
        expect((await invitation(es)).lookup.invite?.username).to.equal('romeo');
        const refused = await refusal(alice.xmpp.iqCaller.request(xml('iq', { type: 'set', to: at, 'xml:lang': 'fr' }, command(NODE.reset))));
        expect(refused).to.include({ condition: 'forbidden', text: 'Seuls les administrateurs peuvent créer des invitations de compte et de réinitialisation du mot de passe.' });
      });

      it('gives simple clients the list as text in <instructions>, and a refused form\'s reason as its first line', async () => {
        await invitation(await run(alice, NODE.invite));
        const listed = await run(alice, NODE.list);
        const x = formOf(listed)!;
        const lines = x.getChildText('instructions')!.split('\n');
        const rows = rowsOf(x);
        expect(lines).to.have.length(rows.length);
        expect(lines[0]).to.match(new RegExp(`^${rows[0]!.id} {2}contact {2}expires .* UTC \\(in 7 days\\) {2}single use$`)); // her own list: her address is not on every line
        expect(notesOf(listed)).to.deep.equal([{ type: 'info', text: `${rows.length} pending invite${rows.length === 1 ? '' : 's'}.` }]);
        const first = await run(boss, NODE.createAccount);
        const again = await run(boss, NODE.createAccount, { sessionid: first.attrs.sessionid }, { username: 'no/slash' });
        expect(formOf(again)!.getChildText('instructions')).to.equal('"no/slash" is not a valid username.\nLeave the username empty to let the invited person choose one.');
      });

      it('refuses a create-account form for an existing username, and a reset form for a missing account, with the reason', async () => {
        const before = (await stack.app.service.listPending({ system: 'cli' }, { all: true, limit: 1000 }) as { invites: unknown[] }).invites.length;
        const first = await run(boss, NODE.createAccount);
        const taken = await run(boss, NODE.createAccount, { sessionid: first.attrs.sessionid }, { username: 'alice' });
        const sentence = `The account alice@${DOMAIN} already exists; choose another username, or use "Create password reset invite" for it.`;
        expect(taken.attrs.status).to.equal('executing');
        expect(notesOf(taken)).to.deep.equal([{ type: 'error', text: sentence }]);
        expect(formOf(taken)!.getChildText('instructions')!.split('\n')[0]).to.equal(sentence);
        const reset = await run(boss, NODE.reset);
        const missing = await run(boss, NODE.reset, { sessionid: reset.attrs.sessionid }, { accountjid: `nobody@${DOMAIN}` });
        expect(missing.attrs.status).to.equal('executing');
        expect(notesOf(missing)).to.deep.equal([{ type: 'error', text: `There is no account nobody@${DOMAIN} to reset.` }]);
        expect(formOf(missing)!.getChildText('instructions')!.split('\n')[0]).to.equal(`There is no account nobody@${DOMAIN} to reset.`);
        expect((await stack.app.service.listPending({ system: 'cli' }, { all: true, limit: 1000 }) as { invites: unknown[] }).invites.length).to.equal(before);
      });

      it('lists all invites when asked, and revokes anyone\'s', async () => {
        const { lookup } = await invitation(await run(alice, NODE.invite));
        const first = await run(boss, NODE.list, { action: 'execute' });
        expect(first.attrs.status).to.equal('executing');
        expect(fieldsOf(formOf(first)).all!.type).to.equal('boolean');
        const all = await run(boss, NODE.list, { sessionid: first.attrs.sessionid, action: 'complete' }, { all: '1' });
        const ids = rowsOf(formOf(all)).map((r) => r.id);
        expect(ids).to.include(lookup.invite!.id);
        const revoke = await run(boss, NODE.revoke);
        expect(fieldsOf(formOf(revoke)).id!.options).to.include(lookup.invite!.id);
        const done = await run(boss, NODE.revoke, { sessionid: revoke.attrs.sessionid }, { id: lookup.invite!.id });
        expect(done.attrs.status).to.equal('completed');
        expect(stack.app.service.stateOf((await stack.app.store.get(lookup.invite!.id))!)).to.equal('revoked');
      });
    });
  });
}
