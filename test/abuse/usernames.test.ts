// Finding 2 of the security review: the core compared the server's nodeprepped
// username with its own folding (NFKC, toUpperCase/toLowerCase), which maps 759
// characters differently; with an account "alıce" (U+0131), a reset invite for
// "alice" registered in-band as "alıce" set alıce's password. Now a registration
// is compared exactly, as Prosody normalised it, with the invite's username as
// Prosody writes it (asked through the bridge).
import { expect } from 'chai';
import { botInviteUri } from '../helpers/bot-reply.js';
import { BOT, DOMAIN, PASSWORD, serverName, type Stack, startStack } from '../helpers/stack.js';
import { connectUser, type User } from '../helpers/xmpp-user.js';
import { conversations, registerLike } from '../conformance/clients.js';
import { tokenOf } from '../helpers/adhoc.js';

const NEW_PASSWORD = 'a-new-password-7';

/** In-band registration with a token, as Conversations sends it; the server's answer (result or error). */
async function registerAs(stack: Stack, token: string, username: string, password = NEW_PASSWORD): Promise<string> {
  const { preauth, register } = await registerLike(conversations, stack.server.service, DOMAIN, token, username, password);
  if (preauth?.attrs.type !== 'result') return `preauth ${preauth?.toString()}`;
  return register?.attrs.type === 'result' ? 'registered' : register?.getChild('error')?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas') ?? 'error';
}

const logsIn = (stack: Stack, jid: string, password: string) =>
  connectUser(stack.server.service, jid, password).then((u) => { stack.users.push(u); return true; }, () => false);

describe(`abuse: look-alike usernames (real ${serverName()}, in-band with tokens)`, function () {
  this.timeout(60_000);
  let stack: Stack;
  let boss: User;
  before(async () => {
    stack = await startStack();
    boss = await stack.user(`boss@${DOMAIN}`);
    for (const name of ['alice', 'al\u0131ce', 'alic\u00e9', 'kate']) await stack.server.register(name, PASSWORD);
  });
  after(async () => { await stack?.stop(); });

  it('a reset invite for "alice" changes no other account, whatever look-alike name is registered', async () => {
    const token = tokenOf(await botInviteUri(boss, BOT, 'invite reset alice'));
    // xmpp.js cannot log in with a non-ASCII username: their stored credentials are compared instead.
    const before = await Promise.all(['al\u0131ce', 'alic\u00e9'].map((n) => stack.server.accountRecord(n)));
    expect(before.every(Boolean)).to.equal(true);
    // U+0131 dotless i; e + U+0301 combining acute (NFKC: é, another account).
    for (const name of ['al\u0131ce', 'alic\u0065\u0301']) {
      expect(await registerAs(stack, token, name), name).to.equal('This invite is for the username "alice" only.');
    }
    const after = await Promise.all(['al\u0131ce', 'alic\u00e9'].map((n) => stack.server.accountRecord(n)));
    expect(after, 'alıce and alicé keep their passwords').to.deep.equal(before);
    // Names Prosody itself folds to "alice" are alice's account: the reset is hers to make.
    expect(await registerAs(stack, token, '\uff21LICE')).to.equal('registered');
    expect(await logsIn(stack, `alice@${DOMAIN}`, NEW_PASSWORD)).to.equal(true);
  });

  it('an invite bound to a name takes that name as Prosody writes it (U+017F, U+212A, full width)', async () => {
    const sam = tokenOf(await botInviteUri(boss, BOT, 'invite account sam'));
    expect(await registerAs(stack, sam, '\u017fam'), 'ſam is sam to Prosody').to.equal('registered');
    expect(await stack.server.userExists('sam')).to.equal(true);
    // Asked for with the Kelvin sign: the server writes it "kate", and only kate is reset.
    const kate = tokenOf(await botInviteUri(boss, BOT, 'invite reset \u212aate'));
    expect(await registerAs(stack, kate, 'kat\u00e9')).to.equal('This invite is for the username "kate" only.');
    expect(await registerAs(stack, kate, '\uff4bate')).to.equal('registered');
    expect(await logsIn(stack, `kate@${DOMAIN}`, NEW_PASSWORD)).to.equal(true);
  });

  it('a bound account invite takes only its name, and an open one never an existing look-alike', async () => {
    const token = tokenOf(await botInviteUri(boss, BOT, 'invite account bob'));
    expect(await registerAs(stack, token, 'b\u00f6b')).to.equal('This invite is for the username "bob" only.');
    const open = tokenOf(await botInviteUri(boss, BOT, 'invite account'));
    // An open invite cannot take an existing look-alike either: it exists, so it is taken.
    const before = await stack.server.accountRecord('al\u0131ce');
    expect(await registerAs(stack, open, 'al\u0131ce')).to.match(/already taken|already exists/);
    expect(await stack.server.accountRecord('al\u0131ce')).to.equal(before);
  });
});
