import { EventEmitter } from 'node:events';
import xml, { type Element } from '@xmpp/xml';
import { expect } from 'chai';
import { redactText } from '../../src/log.js';
import { attachDebug, redactStanza } from '../../src/xmpp/debug.js';

const HIDDEN = /\[hidden\]|<hidden xmlns="xmpp\.js"\/>/;

interface Case {
  name: string;
  stanza: () => Element;
  secrets: string[];
  /** Parts that must survive redaction unchanged. */
  visible: string[];
}

const cases: Case[] = [
  {
    name: 'an invite token in <preauth/> (XEP-0401)',
    stanza: () => xml('iq', { type: 'set', id: 'r1' },
      xml('preauth', { xmlns: 'urn:xmpp:pars:0', token: 'SECRETTOKENinPARS0001' })),
    secrets: ['SECRETTOKENinPARS0001'],
    visible: ['<iq type="set" id="r1">', 'xmlns="urn:xmpp:pars:0"'],
  },
  {
    name: 'an invite URI in a message body',
    stanza: () => xml('message', { to: 'ann@localhost', type: 'chat' },
      xml('body', {}, 'Open xmpp:localhost?register;preauth=SECRETTOKEN123456 to join')),
    secrets: ['SECRETTOKEN123456'],
    visible: ['<body>Open xmpp:localhost?register;preauth=', ' to join</body>'],
  },
  {
    name: 'a XEP-0077 password',
    stanza: () => xml('iq', { type: 'set', id: 'reg' },
      xml('query', { xmlns: 'jabber:iq:register' }, xml('username', {}, 'u'), xml('password', {}, 'SECRETpw77'))),
    secrets: ['SECRETpw77'],
    visible: ['<username>u</username>', '<password>'],
  },
  {
    name: 'password fields of a data form (XEP-0004)',
    stanza: () => xml('x', { xmlns: 'jabber:x:data', type: 'submit' },
      xml('field', { var: 'accountjid' }, xml('value', {}, 'ann@example.org')),
      xml('field', { var: 'password' }, xml('value', {}, 'SECRETform1')),
      xml('field', { var: 'password-verify' }, xml('value', {}, 'SECRETform2'))),
    secrets: ['SECRETform1', 'SECRETform2'],
    visible: ['<field var="accountjid"><value>ann@example.org</value></field>', '<field var="password"><value>', '<field var="password-verify"><value>'],
  },
  {
    name: 'the component handshake (XEP-0114)',
    stanza: () => xml('handshake', { xmlns: 'jabber:component:accept' }, 'abcdef0123'),
    secrets: ['abcdef0123'],
    visible: ['<handshake xmlns="jabber:component:accept">'],
  },
  {
    name: 'SASL PLAIN credentials',
    stanza: () => xml('auth', { xmlns: 'urn:ietf:params:xml:ns:xmpp-sasl', mechanism: 'PLAIN' }, 'AGFsaWNlAHNlY3JldA=='),
    secrets: ['AGFsaWNlAHNlY3JldA=='],
    visible: ['mechanism="PLAIN"'],
  },
];

describe('redactStanza', () => {
  for (const c of cases) {
    it(`hides ${c.name}`, () => {
      const el = c.stanza();
      const before = el.toString();
      for (const s of c.secrets) expect(before, 'test stanza carries the secret').to.include(s);

      const out = redactStanza(el);
      for (const s of c.secrets) expect(out).to.not.include(s);
      expect(out).to.match(HIDDEN);
      for (const v of c.visible) expect(out).to.include(v);
      expect(el.toString(), 'the original element is not modified').to.equal(before);
    });
  }

  it('gives the exact redacted forms', () => {
    expect(redactStanza(cases[0]!.stanza())).to.equal('<iq type="set" id="r1"><preauth xmlns="urn:xmpp:pars:0" token="[hidden]"/></iq>');
    expect(redactStanza(cases[2]!.stanza())).to.equal('<iq type="set" id="reg"><query xmlns="jabber:iq:register"><username>u</username><password>[hidden]</password></query></iq>');
    expect(redactStanza(cases[5]!.stanza())).to.equal('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN"><hidden xmlns="xmpp.js"/></auth>');
  });

  it('hides a password form nested in a registration query', () => {
    const el = xml('iq', { type: 'set' }, xml('query', { xmlns: 'jabber:iq:register' },
      xml('x', { xmlns: 'jabber:x:data', type: 'submit' },
        xml('field', { var: 'username' }, xml('value', {}, 'bob')),
        xml('field', { var: 'password' }, xml('value', {}, 'SECRETnested')))));
    const out = redactStanza(el);
    expect(out).to.not.include('SECRETnested');
    expect(out).to.include('<field var="username"><value>bob</value></field>');
    expect(out).to.include('<field var="password"><value>[hidden]</value></field>');
  });

  it('leaves an ordinary message as it was', () => {
    const el = xml('message', { to: 'invitebot@example.org', type: 'chat' }, xml('body', {}, 'invite account bob'));
    expect(redactStanza(el)).to.equal(el.toString());
  });
});

describe('attachDebug', () => {
  it('prints redacted stanzas in and out with the label', () => {
    const emitter = new EventEmitter();
    const lines: string[] = [];
    attachDebug(emitter, 'bot', (l) => lines.push(l));

    emitter.emit('send', xml('message', { to: 'ann@example.org' }, xml('body', {}, 'xmpp:example.org?register;preauth=OUTGOINGtoken123456')));
    emitter.emit('element', xml('iq', { type: 'set' }, xml('preauth', { xmlns: 'urn:xmpp:pars:0', token: 'INCOMINGtoken123456' })));

    expect(lines).to.deep.equal([
      'bot OUT <message to="ann@example.org"><body>xmpp:example.org?register;preauth=[hidden]</body></message>',
      'bot IN  <iq type="set"><preauth xmlns="urn:xmpp:pars:0" token="[hidden]"/></iq>',
    ]);
  });
});

describe('redactText', () => {
  const secret = 'abcdefgh12345678';
  for (const text of [`preauth=${secret}`, `https://x/invite/${secret}`, `token='${secret}'`, `token="${secret}"`, `token=${secret}`, `xmpp:a@b?roster;preauth=${secret};ibr=y`]) {
    it(`hides the token in ${text}`, () => {
      const out = redactText(text);
      expect(out).to.not.include(secret);
      expect(out).to.include('[hidden]');
    });
  }

  it('keeps the text around the token', () => {
    expect(redactText(`see https://x/invite/${secret} now`)).to.equal('see https://x/invite/[hidden] now');
    expect(redactText(`xmpp:a@b?roster;preauth=${secret};ibr=y`)).to.equal('xmpp:a@b?roster;preauth=[hidden];ibr=y');
  });

  it('leaves text without tokens alone', () => {
    expect(redactText('command "help" from ann@example.org')).to.equal('command "help" from ann@example.org');
  });
});

describe('redactStanza: tokens in attribute values', () => {
  it('hides a token inside an attribute value (XHTML-IM link)', () => {
    const el = xml('message', {}, xml('html', { xmlns: 'http://jabber.org/protocol/xhtml-im' },
      xml('body', { xmlns: 'http://www.w3.org/1999/xhtml' },
        xml('a', { href: 'xmpp:example.org?register;preauth=SECRETTOKEN123456' }, 'join'))));
    const out = redactStanza(el);
    expect(out).to.not.include('SECRETTOKEN123456');
    expect(out).to.include('href="xmpp:example.org?register;preauth=[hidden]"');
  });
});
