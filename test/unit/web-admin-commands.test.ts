// The XEP-0133 client the web side uses, against a scripted server: the
// execute → form → complete flow, how refusals are read, and that the
// password never shows in XMPP_DEBUG output. (The real servers: test/integration/xep0133.test.ts.)
import { expect } from 'chai';
import { ADD_USER, AdminCommands, CHANGE_USER_PASSWORD } from '../../src/xmpp/admin-commands.js';
import { redactStanza } from '../../src/xmpp/debug.js';
import { oobMessage } from '../../src/xmpp/oob.js';
import { type Element, xml } from '../../src/xmpp/stanzas.js';

const NS = 'http://jabber.org/protocol/commands';

type Answer = (sent: Element) => Element | Error;

/** Answers each request with the next scripted reply; keeps what was sent. */
function scripted(...answers: Answer[]) {
  const sent: Element[] = [];
  return {
    sent,
    async request(stanza: Element): Promise<Element> {
      sent.push(stanza);
      const next = answers.shift();
      if (!next) throw new Error('unexpected request');
      const a = next(stanza);
      if (a instanceof Error) throw a;
      return a;
    },
  };
}

const result = (cmd: Element) => xml('iq', { type: 'result' }, cmd);
const form = (node: string): Answer => () => result(xml('command', { xmlns: NS, node, sessionid: 's1', status: 'executing' }, xml('x', { xmlns: 'jabber:x:data', type: 'form' })));
const done = (node: string, note?: { type: string; text: string }): Answer => () =>
  result(xml('command', { xmlns: NS, node, sessionid: 's1', status: 'completed' }, ...(note ? [xml('note', { type: note.type }, note.text)] : [])));

function fields(stanza: Element): Record<string, string> {
  const x = stanza.getChild('command', NS)!.getChild('x', 'jabber:x:data')!;
  return Object.fromEntries(x.getChildren('field').map((f) => [String(f.attrs.var), f.getChildText('value') ?? '']));
}

describe('web: XEP-0133 admin commands', () => {
  it('add-user: executes, then completes the session with the form filled in', async () => {
    const iq = scripted(form(ADD_USER), done(ADD_USER, { type: 'info', text: 'Account successfully created' }));
    expect(await new AdminCommands(iq, 'example.org').addUser('dora', 's3cret pass')).to.deep.equal({ ok: true });
    const [execute, complete] = iq.sent as [Element, Element];
    expect(execute.attrs).to.include({ type: 'set', to: 'example.org' });
    expect(execute.getChild('command', NS)!.attrs).to.include({ node: ADD_USER, action: 'execute' });
    expect(complete.getChild('command', NS)!.attrs).to.include({ node: ADD_USER, action: 'complete', sessionid: 's1' });
    expect(fields(complete)).to.deep.equal({
      FORM_TYPE: 'http://jabber.org/protocol/admin',
      accountjid: 'dora@example.org',
      password: 's3cret pass',
      'password-verify': 's3cret pass',
    });
    // XMPP_DEBUG output of what was sent: no password.
    expect(redactStanza(complete)).to.not.include('s3cret');
  });

  it('change-user-password: accountjid and password', async () => {
    const iq = scripted(form(CHANGE_USER_PASSWORD), done(CHANGE_USER_PASSWORD));
    expect(await new AdminCommands(iq, 'example.org').changePassword('carol', 'new pass 1')).to.deep.equal({ ok: true });
    expect(fields(iq.sent[1]!)).to.deep.equal({ FORM_TYPE: 'http://jabber.org/protocol/admin', accountjid: 'carol@example.org', password: 'new pass 1' });
  });

  it('reads Prosody\'s refusals, sent as a completed command with an error note', async () => {
    const cases: [string, string][] = [
      ['Account already exists', 'exists'],
      ['User does not exist', 'no-such-user'],
      ['Invalid data.\nPassword mismatch, or empty username', 'refused'],
    ];
    for (const [text, reason] of cases) {
      const iq = scripted(form(ADD_USER), done(ADD_USER, { type: 'error', text }));
      expect(await new AdminCommands(iq, 'example.org').addUser('x', 'y')).to.deep.equal({ ok: false, reason, message: text });
    }
  });

  it('reads ejabberd\'s refusals, sent as IQ errors (as ejabberd 23.01 answers them)', async () => {
    const err = (condition: string, text?: string) => () => Object.assign(new Error(condition), { condition, text });
    const noHook = err('item-not-found', 'No hook has processed this command');
    const ask = (node: string, answer: Answer) => {
      const a = new AdminCommands(scripted(form(node), answer), 'example.org');
      return node === ADD_USER ? a.addUser('x', 'y') : a.changePassword('x', 'y');
    };
    expect(await ask(ADD_USER, err('conflict'))).to.include({ ok: false, reason: 'exists' });
    expect(await ask(CHANGE_USER_PASSWORD, noHook)).to.deep.equal({ ok: false, reason: 'no-such-user', message: 'item-not-found: No hook has processed this command' });
    // The same answer to add-user is a foreign domain or a name it cannot take: not "no such user".
    expect(await ask(ADD_USER, noHook)).to.include({ ok: false, reason: 'refused' });
    // A bot that is no admin: forbidden on execute (both servers), never "unreachable".
    const forbidden = new AdminCommands(scripted(err('forbidden', 'Access denied by service policy')), 'example.org');
    expect(await forbidden.addUser('x', 'y')).to.deep.equal({ ok: false, reason: 'forbidden', message: 'forbidden: Access denied by service policy' });
    // A server without the command (Prosody without mod_admin_adhoc).
    expect(await new AdminCommands(scripted(err('service-unavailable')), 'example.org').addUser('x', 'y')).to.include({ ok: false, reason: 'refused' });
  });

  it('no answer, or an odd answer: unavailable or refused, never a throw', async () => {
    const timeout = () => Object.assign(new Error('timeout'), { name: 'TimeoutError' });
    expect(await new AdminCommands(scripted(timeout), 'example.org').addUser('x', 'y')).to.include({ ok: false, reason: 'unavailable' });
    const bounce = () => Object.assign(new Error('remote-server-timeout'), { condition: 'remote-server-timeout' });
    expect(await new AdminCommands(scripted(form(ADD_USER), bounce), 'example.org').addUser('x', 'y')).to.include({ ok: false, reason: 'unavailable' });
    const noCommand: Answer = () => xml('iq', { type: 'result' });
    expect(await new AdminCommands(scripted(noCommand), 'example.org').addUser('x', 'y')).to.include({ ok: false, reason: 'unavailable' });
    const completedAtOnce = done(ADD_USER);
    expect(await new AdminCommands(scripted(completedAtOnce), 'example.org').addUser('x', 'y')).to.include({ ok: false, reason: 'refused' });
    const canceled: Answer = () => result(xml('command', { xmlns: NS, node: ADD_USER, sessionid: 's1', status: 'canceled' }));
    expect(await new AdminCommands(scripted(form(ADD_USER), canceled), 'example.org').addUser('x', 'y')).to.include({ ok: false, reason: 'refused' });
  });
});

describe('XEP-0066 message (the QR code in chat)', () => {
  it('has the URL as its body and in jabber:x:oob', () => {
    const m = oobMessage('alice@example.org/phone', 'https://x.example/invite/T/qr.png');
    expect(m.toString()).to.equal(
      '<message to="alice@example.org/phone" type="chat"><body>https://x.example/invite/T/qr.png</body>'
      + '<x xmlns="jabber:x:oob"><url>https://x.example/invite/T/qr.png</url></x></message>');
    expect(oobMessage('a@b', 'https://u', 'normal').attrs.type).to.equal('normal');
  });
});
