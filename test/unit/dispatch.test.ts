import { expect } from 'chai';
import { commands } from '../../commands/index.js';
import type { Command } from '../../src/bot/command.js';
import { Dispatcher, MAX_COMMAND_CHARS, normalizeText, parseCommand } from '../../src/bot/dispatch.js';
import { type Core, makeCore } from '../helpers/core.js';
import { captureStderr } from '../helpers/stderr.js';

const ADMIN = 'boss@example.org';
const USER = 'ann@example.org';
const FOREIGN = 'eve@evil.example';
const HELP_HINT = 'Type "help" to see the commands you can use.';
const FAILED = 'Something went wrong on our side; please try again later.';

describe('normalizeText', () => {
  it('turns control, format and space characters into single spaces and trims', () => {
    expect(normalizeText('  invite \t\r\n contact  ')).to.equal('invite contact');
    expect(normalizeText('\u202Einvite\u0000\u0007 \u200B contact\u2028')).to.equal('invite contact');
    expect(normalizeText('invite\u00A0\u2003\u3000account   bob')).to.equal('invite account bob');
    expect(normalizeText('\uFEFFhelp\u200E')).to.equal('help');
  });

  it('composes to NFC', () => {
    expect(normalizeText('jose\u0301')).to.equal('jos\u00E9');
  });

  it('leaves nothing of a blank message', () => {
    expect(normalizeText(' \t\n\u200B\u00A0')).to.equal('');
  });
});

describe('parseCommand', () => {
  const parse = (text: string) => {
    const p = parseCommand(text, commands);
    return p && { name: p.command.name, args: p.args };
  };

  it('picks the command matching the most words', () => {
    expect(parse('invite account bob')).to.deep.equal({ name: 'invite account', args: ['bob'] });
    expect(parse('invite')).to.deep.equal({ name: 'invite', args: [] });
    expect(parse('invites all')).to.deep.equal({ name: 'invites', args: ['all'] });
    expect(parse('INVITE   contact')).to.deep.equal({ name: 'invite contact', args: [] });
    expect(parse('invite reset Bob')).to.deep.equal({ name: 'invite reset', args: ['Bob'] });
    expect(parse('invite bob')).to.deep.equal({ name: 'invite', args: ['bob'] });
    expect(parse('revoke abcd2345 extra')).to.deep.equal({ name: 'revoke', args: ['abcd2345', 'extra'] });
  });

  it('keeps the case of arguments', () => {
    expect(parse('Invite Account BoB')).to.deep.equal({ name: 'invite account', args: ['BoB'] });
  });

  it('matches whole words only', () => {
    expect(parse('inviteaccount')).to.equal(undefined);
    expect(parse('helpme')).to.equal(undefined);
    expect(parse('please invite')).to.equal(undefined);
    expect(parse('')).to.equal(undefined);
  });

  it('recognises every command name in any case', () => {
    const mixed = (s: string) => [...s].map((ch, i) => (i % 2 ? ch.toUpperCase() : ch.toLowerCase())).join('');
    for (const c of commands) {
      for (const text of [c.name, c.name.toUpperCase(), mixed(c.name), `  ${c.name.toUpperCase().replace(' ', '\t ')}  `]) {
        expect(parse(text), JSON.stringify(text)).to.deep.equal({ name: c.name, args: [] });
      }
    }
  });
});

describe('Dispatcher', () => {
  let core: Core;
  let d: Dispatcher;

  beforeEach(async () => {
    core = await makeCore({ admins: [ADMIN], domain: 'example.org', maxInvitesPerUser: 3 });
    d = new Dispatcher(core.service, commands, () => core.clock.now);
  });
  afterEach(async () => {
    await core.cleanup();
  });

  const pendingCount = async () => {
    const r = await core.service.listPending({ jid: ADMIN }, { all: true, limit: 1000 });
    if (!r.ok) throw new Error(r.message);
    return r.invites.length;
  };

  it('runs every command, typed in any case, for an administrator', async () => {
    const created = (reply: string) => /Id ([a-z0-9]{8}): "revoke \1" cancels it\.$/.exec(reply)?.[1];

    const plain = await d.handle(ADMIN, 'INVITE');
    expect(plain).to.match(/^Contact invite: it creates an account on example\.org if needed, and makes its owner your contact\. Valid until 2026-11-28 12:00 UTC \(in 7 days\), single use\.\nxmpp:boss@example\.org\?roster;preauth=[A-Za-z0-9_-]{24};ibr=y\n/);
    expect(await d.handle(ADMIN, 'Invite Contact')).to.match(/^Contact invite: whoever opens it becomes your contact\. .*\nxmpp:boss@example\.org\?roster;preauth=[A-Za-z0-9_-]{24}\n/);
    expect(await d.handle(ADMIN, 'iNvItE aCcOuNt')).to.match(/^Account invite: it creates an account on example\.org\. .*\nxmpp:example\.org\?register;preauth=[A-Za-z0-9_-]{24}\n/);
    expect(await d.handle(ADMIN, 'INVITE ACCOUNT Bob')).to.match(/^Account invite for the username "bob": .*\nxmpp:bob@example\.org\?register;preauth=/);
    expect(await d.handle(ADMIN, 'Invite ADMIN')).to.match(/^Account invite, for a new administrator: it creates an account on example\.org\. /);
    expect(await d.handle(ADMIN, 'INVITE RESET carol')).to.match(/^Password reset invite for carol@example\.org: it sets a new password\. Valid until 2026-11-22 12:00 UTC \(in 1 day\), single use\.\n/);
    expect(await d.handle(ADMIN, 'Invites')).to.match(/^6 pending invites:\n/);
    expect(await d.handle(ADMIN, 'INVITES ALL')).to.match(/^6 pending invites:\n/);

    const id = created(plain);
    expect(id, plain).to.be.a('string');
    expect(await d.handle(ADMIN, `ReVoKe ${id!.toUpperCase()}`)).to.equal(`Invite ${id} is revoked: it can no longer be used.`);
    expect(await d.handle(ADMIN, 'HELP')).to.match(/^Commands you can use:\ninvite {2,}an invite that makes someone your contact/);
    expect(await pendingCount()).to.equal(5);
  });

  it('lists for each sender exactly the commands they may use', async () => {
    const usages = (reply: string) => reply.split('\n').slice(1).map((l) => l.split(/ {2,}/)[0]);
    expect(usages(await d.handle(ADMIN, 'help'))).to.deep.equal(commands.map((c) => c.usage));
    expect(usages(await d.handle(USER, 'help'))).to.deep.equal(['invite', 'invite contact', 'invites [all | next]', 'revoke ID', 'help']);
  });

  it('help for another domain is only help', async () => {
    expect(await d.handle(FOREIGN, 'help')).to.equal('Commands you can use:\nhelp  this list');
  });

  it('refuses admin commands to local users with one sentence, and creates nothing', async () => {
    expect(await d.handle(USER, 'invite admin')).to.equal('Only administrators can use "invite admin". Type "help" to see the commands you can use.');
    expect(await d.handle(USER, 'invite account bob')).to.equal('Only administrators can use "invite account". Type "help" to see the commands you can use.');
    expect(await d.handle(USER, 'invite reset')).to.equal('Only administrators can use "invite reset". Type "help" to see the commands you can use.');
    expect(await pendingCount()).to.equal(0);
  });

  it('refuses every invite command to other domains', async () => {
    const refusal = 'Only accounts on example.org can create invites here. Type "help" for what you can do.';
    for (const text of ['invite', 'invite contact', 'invite admin', 'invite account', 'invites', 'revoke abcd2345']) {
      expect(await d.handle(FOREIGN, text), text).to.equal(refusal);
    }
    // An admin of another server with the same local part is no admin here.
    expect(await d.handle('boss@example.org.evil', 'invite admin')).to.equal('Only accounts on example.org can create invites here. Type "help" for what you can do.');
    expect(await pendingCount()).to.equal(0);
  });

  it('answers a wrong number of arguments with the usage', async () => {
    const table: [string, string, string][] = [
      [ADMIN, 'invite reset', "Usage: invite reset USERNAME (an invite to set a new password for USERNAME's account)."],
      [ADMIN, 'invite reset bob carol', "Usage: invite reset USERNAME (an invite to set a new password for USERNAME's account)."],
      [ADMIN, 'invite admin now', 'Usage: invite admin (an invite to create an account that becomes an administrator).'],
      [ADMIN, 'invite account bob carol', 'Usage: invite account [USERNAME] [--role ROLE]… (an invite to create one account, optionally only with that username and with roles such as admin or member).'],
      [ADMIN, 'invite account --rank admin', 'Usage: invite account [USERNAME] [--role ROLE]… (an invite to create one account, optionally only with that username and with roles such as admin or member).'],
      [ADMIN, 'invite account bob --role', 'Usage: invite account [USERNAME] [--role ROLE]… (an invite to create one account, optionally only with that username and with roles such as admin or member).'],
      [ADMIN, 'invite account --role root', '"root" is not a role; the roles are admin, member, registered, guest.'],
      [USER, 'invite contact please', 'Usage: invite contact (an invite that only makes an existing account your contact).'],
      [USER, 'revoke', 'Usage: revoke ID (cancel one of your invites (administrators: anyone\'s); "invites" shows the ids).'],
      [USER, 'invites all please', 'Usage: invites [all | next] (your invites that can still be used ("all": everyone\'s, for administrators; "next": the next page)).'],
      [FOREIGN, 'help me', 'Usage: help (this list).'],
    ];
    for (const [sender, text, reply] of table) expect(await d.handle(sender, text), text).to.equal(reply);
    expect(await pendingCount()).to.equal(0);
  });

  it('answers an over-long message without parsing it', async () => {
    const tooLong = 'invite admin' + ' '.repeat(MAX_COMMAND_CHARS + 1 - 'invite admin'.length);
    expect(tooLong).to.have.length(1001);
    expect(await d.handle(ADMIN, tooLong)).to.equal('That message is too long to be a command. Type "help" to see the commands.');
    expect(await d.handle(USER, 'x'.repeat(1001))).to.equal('That message is too long to be a command. Type "help" to see the commands.');
    expect(await pendingCount()).to.equal(0);
    // 1000 characters is still a command.
    expect(await d.handle(FOREIGN, 'help'.padEnd(MAX_COMMAND_CHARS, ' '))).to.equal('Commands you can use:\nhelp  this list');
  });

  it('answers an empty or blank message with a hint', async () => {
    for (const body of ['', '   ', '\n\t ', '\u200B\u00A0']) {
      expect(await d.handle(USER, body), JSON.stringify(body)).to.equal(HELP_HINT);
    }
  });

  it('echoes an unknown command on one short line', async () => {
    expect(await d.handle(USER, 'hello\u0007there')).to.equal(`I don't know the command "hello there". ${HELP_HINT}`);
    expect(await d.handle(USER, 'y'.repeat(100))).to.equal(`I don't know the command "${'y'.repeat(39)}…". ${HELP_HINT}`);
  });

  it('answers a command that fails with an apology, logs it, and does not throw', async () => {
    const rejects: Command = { name: 'boom', usage: 'boom', summary: 'fails', who: 'anyone', args: [0, 0], run: async () => { throw new Error('kaboom'); } };
    const throws: Command = { name: 'bang', usage: 'bang', summary: 'fails', who: 'anyone', args: [0, 0], run: () => { throw new Error('synchronous'); } };
    const broken = new Dispatcher(core.service, [rejects, throws], () => core.clock.now);

    const a = await captureStderr(() => broken.handle(USER, 'boom'));
    expect(a.result).to.equal(FAILED);
    expect(a.stderr).to.match(/ error command "boom" from ann@example\.org failed: Error: kaboom\n/);

    const b = await captureStderr(() => broken.handle(FOREIGN, 'BANG'));
    expect(b.result).to.equal(FAILED);
    expect(b.stderr).to.match(/ error command "bang" from eve@evil\.example failed: Error: synchronous\n/);
  });

  it('a plain "invite" says so when contact invites are off', async () => {
    const off = await makeCore({ allowContactInvites: false });
    try {
      const dd = new Dispatcher(off.service, commands, () => off.clock.now);
      expect(await dd.handle(USER, 'invite')).to.equal('Contact invites are turned off on this server.');
      expect(await dd.handle(USER, 'invite contact')).to.equal('Contact invites are turned off on this server.');
      // Administrators are not bound by it.
      expect(await dd.handle(ADMIN, 'invite')).to.match(/^Contact invite: it creates an account on example\.org if needed/);
    } finally {
      await off.cleanup();
    }
  });

  it('stops a local user at the quota', async () => {
    for (let i = 0; i < 3; i++) expect(await d.handle(USER, 'invite')).to.match(/^Contact invite: whoever opens it becomes your contact\./);
    expect(await d.handle(USER, 'invite')).to.equal('You already have 3 unused invites, the most allowed; revoke one first.');
    expect(await d.handle(USER, 'invites')).to.match(/^3 pending invites:\n/);
  });

  it('keeps local users to their own invites', async () => {
    const mine = await d.handle(ADMIN, 'invite account');
    const id = /Id ([a-z0-9]{8}):/.exec(mine)![1]!;
    expect(await d.handle(USER, 'invites')).to.equal('You have no pending invites. Type "invite" to create one.');
    expect(await d.handle(USER, 'invites all')).to.equal('Only administrators can list all invites. Type "invites" for yours.');
    expect(await d.handle(USER, 'invites foo')).to.equal('Type "invites" for yours.');
    expect(await d.handle(USER, `revoke ${id}`)).to.equal(`You have no invite with the id "${id}". Type "invites" to see their ids.`);
    expect(await pendingCount()).to.equal(1);
  });

  it('gives an account invite the roles named with --role, in any spelling Prosody uses', async () => {
    const reply = await d.handle(ADMIN, 'invite account dora --role member --role PROSODY:admin');
    expect(reply).to.match(/^Account invite for the username "dora", for a new administrator: it creates an account/);
    const id = /Id ([a-z0-9]{8}):/.exec(reply)![1]!;
    expect((await core.store.get(id))?.roles).to.deep.equal(['admin', 'member']);
    const member = await d.handle(ADMIN, 'invite account --role=member');
    expect(member).to.match(/^Account invite, with the role member: it creates an account/);
  });

  it('has every command, in the order help lists them', () => {
    expect(commands.map((c) => c.name)).to.deep.equal(['invite', 'invite contact', 'invite account', 'invite admin', 'invite reset', 'invites', 'revoke', 'help']);
  });
});

describe('normalizeText: invisible characters', () => {
  it('removes format characters inside words instead of splitting them', () => {
    expect(normalizeText('in\u200Bvite con\u00ADtact')).to.equal('invite contact');
    expect(parseCommand('in\u200Bvite', commands)?.command.name).to.equal('invite');
  });
});
