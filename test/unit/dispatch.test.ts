import { expect } from 'chai';
import { commands } from '../../commands/index.js';
import type { Command } from '../../src/bot/command.js';
import { Dispatcher, isGreeting, MAX_COMMAND_CHARS, normalizeText, parseCommand, splitWords, stripPunctuation } from '../../src/bot/dispatch.js';
import { GroupService } from '../../src/groups/service.js';
import { LANGUAGES, type Lang } from '../../src/i18n/i18n.js';
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
    expect(plain).to.match(/^Contact invite: it creates an account on example\.org if needed, and makes its owner your contact\. Valid until 28 November 2026 at 12:00 UTC \(in 7 days\), single use\.\nxmpp:boss@example\.org\?roster;preauth=[A-Za-z0-9_-]{24};ibr=y\n/);
    expect(await d.handle(ADMIN, 'Invite Contact')).to.match(/^Contact invite: whoever opens it becomes your contact\. .*\nxmpp:boss@example\.org\?roster;preauth=[A-Za-z0-9_-]{24}\n/);
    expect(await d.handle(ADMIN, 'iNvItE aCcOuNt')).to.match(/^Account invite: it creates an account on example\.org\. .*\nxmpp:example\.org\?register;preauth=[A-Za-z0-9_-]{24}\n/);
    expect(await d.handle(ADMIN, 'INVITE ACCOUNT Bob')).to.match(/^Account invite for the username "bob": .*\nxmpp:bob@example\.org\?register;preauth=/);
    expect(await d.handle(ADMIN, 'Invite ADMIN')).to.match(/^Account invite, for a new administrator: it creates an account on example\.org\. /);
    expect(await d.handle(ADMIN, 'INVITE RESET carol')).to.match(/^Password reset invite for carol@example\.org: it sets a new password\. Valid until 22 November 2026 at 12:00 UTC \(in 1 day\), single use\.\n/);
    expect(await d.handle(ADMIN, 'Invites')).to.match(/^6 pending invites:\n/);
    expect(await d.handle(ADMIN, 'INVITES ALL')).to.match(/^6 pending invites:\n/);

    const id = created(plain);
    expect(id, plain).to.be.a('string');
    expect(await d.handle(ADMIN, `ReVoKe ${id!.toUpperCase()}`)).to.equal(`Invite ${id} is revoked: it can no longer be used.`);
    expect(await d.handle(ADMIN, 'HELP')).to.match(/^Commands you can use:\ninvite {2,}an invite link: whoever opens it becomes your contact/);
    expect(await pendingCount()).to.equal(5);
  });

  it('lists for each sender exactly the commands they may use', async () => {
    // The lines of commands (the options sentence after them is no command).
    const usages = (reply: string) => reply.split('\n').slice(1).filter((l) => !l.startsWith('Options for invites:')).map((l) => l.split(/ {2,}/)[0]);
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

  it('answers wrong arguments with a sentence saying how to type the command', async () => {
    const reset = '"invite reset" needs the username of the account, then options if you like: invite reset USERNAME [--expires-after D] [--note "TEXT"]. For example "invite reset alice".';
    const account = "\"invite account\" takes at most one username, then options: invite account [USERNAME] [--uses N] [--expires-after D] [--group G]\u2026 [--role R]\u2026 [--note \"TEXT\"]. For example \"invite account --uses 10 --expires-after 2d --note 'spring meetup'\", or just \"invite account\" to let the new person choose the username.";
    const table: [string, string, string][] = [
      [ADMIN, 'invite reset', reset],
      [ADMIN, 'invite reset bob carol', reset],
      [ADMIN, 'invite admin now', '"invite admin" takes only options: invite admin [--uses N] [--expires-after D] [--group G]… [--note "TEXT"]. Send just "invite admin" to get an invite for a new administrator.'],
      [ADMIN, 'invite account bob carol', account],
      [ADMIN, 'invite account --rank admin', account],
      [ADMIN, 'invite account bob --role', account],
      [ADMIN, 'invite account --role root', '"root" is not a role; the roles are admin, member, registered, guest.'],
      [USER, 'invite please', '"invite" takes only options: invite [--expires-after D] [--note "TEXT"], such as "invite --expires-after 1d". Send just "invite" to get an invite that makes someone your contact.'],
      [USER, 'invite contact please', '"invite contact" takes only options: invite contact [--expires-after D] [--note "TEXT"]. Send just "invite contact" to get an invite for someone who already has an account.'],
      [USER, 'revoke', '"revoke" needs the id of one invite, for example "revoke abcd2345". Send "invites" to see the ids.'],
      [USER, 'invites all please', '"invites" takes at most one word: "all" for everyone\'s invites (administrators) or "next" for the next page. Send just "invites" for your own.'],
      [FOREIGN, 'help me', '"help" takes no words after it. Send just "help" to see the commands.'],
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

  it('echoes a later unknown message on one short line', async () => {
    await d.handle(USER, 'help');
    expect(await d.handle(USER, 'frob\u0007nicate')).to.equal(`I did not understand "frob nicate". ${HELP_HINT}`);
    expect(await d.handle(USER, 'y'.repeat(100))).to.equal(`I did not understand "${'y'.repeat(39)}…". ${HELP_HINT}`);
    expect(await d.handle(USER, 'x💣'.repeat(100))).to.equal(`I did not understand "${'x💣'.repeat(19)}x…". ${HELP_HINT}`);
  });

  it('answers a command that fails with an apology, logs it, and does not throw', async () => {
    const rejects: Command = { name: 'boom', key: 'boom', usage: 'boom', who: 'anyone', args: [0, 0], run: async () => { throw new Error('kaboom'); } };
    const throws: Command = { name: 'bang', key: 'bang', usage: 'bang', who: 'anyone', args: [0, 0], run: () => { throw new Error('synchronous'); } };
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
    expect(commands.map((c) => c.name)).to.deep.equal([
      'invite', 'invite contact', 'invite account', 'invite admin', 'invite reset', 'invites', 'revoke',
      'groups', 'group create', 'group add', 'group remove', 'group delete', 'help',
    ]);
  });
});

describe('normalizeText: invisible characters', () => {
  it('removes format characters inside words instead of splitting them', () => {
    expect(normalizeText('in\u200Bvite con\u00ADtact')).to.equal('invite contact');
    expect(parseCommand('in\u200Bvite', commands)?.command.name).to.equal('invite');
  });
});

describe('Dispatcher: first messages, greetings and punctuation', () => {
  let core: Core;
  let d: Dispatcher;
  beforeEach(async () => {
    core = await makeCore({ admins: [ADMIN], domain: 'example.org', maxInvitesPerUser: 3 });
    d = new Dispatcher(core.service, commands, () => core.clock.now);
  });
  afterEach(() => core.cleanup());

  const GREETING = 'Hello! I am the invite bot of example.org: I make invite links for the people you want to bring here.';

  it('strips the punctuation around a message before reading it', async () => {
    expect(stripPunctuation('Invite.')).to.equal('Invite');
    expect(stripPunctuation('help?')).to.equal('help');
    expect(stripPunctuation('¿ayuda?')).to.equal('ayuda');
    expect(stripPunctuation('revoke abcd2345!!')).to.equal('revoke abcd2345');
    expect(await d.handle(USER, 'Invite.')).to.match(/^Contact invite: whoever opens it becomes your contact\./);
    expect(await d.handle(USER, 'help?')).to.match(/^Commands you can use:\n/);
    expect(await d.handle(USER, 'Invites!')).to.match(/^1 pending invite:\n/);
  });

  it('never strips punctuation from the words of a command as typed ("alice." is not "alice")', async () => {
    const reply = await d.handle(ADMIN, 'invite reset alice.');
    expect(reply).to.include('alice.@example.org');
    const bound = await d.handle(ADMIN, 'invite account bob!');
    expect(bound).to.include('"bob!"');
  });

  it('takes an address of this server where a username is asked ("alice@example.org" is "alice"), as the ad-hoc form does', async () => {
    expect(await d.handle(ADMIN, 'invite reset alice@example.org')).to.include('Password reset invite for alice@example.org:');
    expect(await d.handle(ADMIN, 'invite account carol@EXAMPLE.org')).to.include('"carol"');
    expect(await d.handle(ADMIN, 'invite reset alice@elsewhere.net')).to.match(/not a valid username/);
  });

  it('answers greetings in any of our languages, "?", "start" and emoji with a greeting and the help text', async () => {
    for (const text of ['hi', 'Hello!', 'hey there', 'Hallo', 'guten Tag', 'moin', 'bonjour', 'Salut !', 'coucou', '¡Hola!', 'buenos días', 'buenas', '?', '…', 'start', '/start', '👋', '🙂🙂', 'Good morning']) {
      expect(isGreeting(normalizeText(text)), text).to.equal(true);
      const reply = await d.handle(USER, text);
      expect(reply, text).to.match(new RegExp(`^${GREETING.replace(/[.!]/g, '\\$&')}\n\nCommands you can use:\ninvite  `));
      expect(reply, text).to.include('revoke ID');
    }
    expect(isGreeting('hello how are you doing today')).to.equal(false);
    expect(isGreeting('frobnicate')).to.equal(false);
  });

  it('answers an unknown first message with the help text, a later one with a short sentence, and a sender back after hours with help again', async () => {
    expect(await d.handle(USER, 'frobnicate')).to.match(/^Hello! I am the invite bot of example\.org: .*\n\nCommands you can use:\n/);
    expect(await d.handle(USER, 'frobnicate')).to.equal(`I did not understand "frobnicate". ${HELP_HINT}`);
    core.clock.now = new Date(core.clock.now.getTime() + 7 * 3_600_000);
    expect(await d.handle(USER, 'frobnicate')).to.match(/^Hello! .*\n\nCommands you can use:\n/);
    // Someone else is new all the same.
    expect(await d.handle(OTHER, 'frobnicate')).to.match(/^Hello! /);
    // Another domain: only help, and no aliases line (nothing to invite with).
    expect(await d.handle(FOREIGN, 'hola')).to.equal(`${GREETING}\n\nCommands you can use:\nhelp  this list`);
  });

  it('keeps its memory of senders bounded', async () => {
    for (let i = 0; i < 10_050; i++) await d.handle(`u${i}@example.org`, 'help');
    const seen = (d as unknown as { seen: Map<string, number> }).seen;
    expect(seen.size).to.equal(10_000);
    expect(seen.has('u0@example.org')).to.equal(false);
  });

  it('takes the translated words for "invite" and "help" in any language', async () => {
    for (const word of ['einladen', 'inviter', 'Invitar.']) expect(await d.handle(USER, word), word).to.match(/^Contact invite: /);
    for (const word of ['hilfe', 'Aide ?', '¿ayuda?']) expect(await d.handle(USER, word), word).to.match(/^Commands you can use:/);
    expect(parseCommand('einladen contact', commands)?.command.name).to.equal('invite contact');
  });
});

const OTHER = 'bob@example.org';

describe('Dispatcher in each language', () => {
  let core: Core;
  let d: Dispatcher;
  beforeEach(async () => {
    core = await makeCore({ admins: [ADMIN], domain: 'example.org', maxInvitesPerUser: 1 });
    d = new Dispatcher(core.service, commands, () => core.clock.now);
  });
  afterEach(() => core.cleanup());

  const expected: Record<Lang, { created: RegExp; quota: string; help: RegExp; wrong: string; greeting: RegExp; unknown: string; adminOnly: string; list: RegExp }> = {
    en: {
      created: /^Contact invite: whoever opens it becomes your contact\. Valid until 28 November 2026 at 12:00 UTC \(in 7 days\), single use\.\nxmpp:ann@example\.org\?roster;preauth=\S+\nShare it only with the person you invite\. Id ([a-z0-9]{8}): "revoke \1" cancels it\.$/,
      quota: 'You already have 1 unused invite, the most allowed; revoke it first.',
      help: /^Commands you can use:\ninvite {2,}an invite link: /,
      wrong: '"invite" takes only options: invite [--expires-after D] [--note "TEXT"], such as "invite --expires-after 1d". Send just "invite" to get an invite that makes someone your contact.',
      greeting: /^Hello! I am the invite bot of example\.org/,
      unknown: 'I did not understand "frobnicate". Type "help" to see the commands you can use.',
      adminOnly: 'Only administrators can use "invite admin". Type "help" to see the commands you can use.',
      list: /^1 pending invite:\n[a-z0-9]{8} {2}contact {2}expires 28 November 2026 at 12:00 UTC \(in 7 days\) {2}single use$/,
    },
    de: {
      created: /^Kontakteinladung: Wer sie öffnet, wird dein Kontakt\. Gültig bis 28\. November 2026 um 12:00 UTC \(in 7 Tagen\), einmal verwendbar\.\nxmpp:ann@example\.org\?roster;preauth=\S+\nGib sie nur der Person, die du einlädst\. Kennung ([a-z0-9]{8}): „revoke \1“ widerruft sie\.$/,
      quota: 'Du hast schon 1 unbenutzte Einladung, mehr ist nicht erlaubt; widerrufe sie zuerst.',
      help: /^Befehle, die du verwenden kannst:\ninvite {2,}ein Einladungslink: [^]*\nrevoke KENNUNG {2,}eine deiner Einladungen widerrufen[^]*\nStatt „invite“ kannst du auch „einladen“ schreiben, statt „help“ auch „hilfe“\.$/,
      wrong: 'Nach „invite“ kommen nur Optionen: invite [--expires-after D] [--note "TEXT"], etwa „invite --expires-after 1d“. Schick einfach „invite“, um eine Einladung zu bekommen, die jemanden zu deinem Kontakt macht.',
      greeting: /^Hallo! Ich bin der Einladungs-Bot von example\.org: .*\n\nBefehle, die du verwenden kannst:\n/,
      unknown: 'Ich habe „frobnicate“ nicht verstanden. Schreib „help“, um die Befehle zu sehen, die du verwenden kannst.',
      adminOnly: 'Nur Administratoren können „invite admin“ verwenden. Schreib „help“, um die Befehle zu sehen, die du verwenden kannst.',
      list: /^1 offene Einladung:\n[a-z0-9]{8} {2}Kontakt {2}gültig bis 28\. November 2026 um 12:00 UTC \(in 7 Tagen\) {2}einmal verwendbar$/,
    },
    fr: {
      created: /^Invitation de contact : la personne qui l’ouvre devient votre contact\. Valable jusqu’au 28 novembre 2026 à 12:00 UTC \(dans 7 jours\), usage unique\.\nxmpp:ann@example\.org\?roster;preauth=\S+\nNe la partagez qu’avec la personne que vous invitez\. Identifiant ([a-z0-9]{8}) : « revoke \1 » l’annule\.$/,
      quota: 'Vous avez déjà 1 invitation inutilisée, le maximum permis ; révoquez-la d’abord.',
      help: /^Commandes que vous pouvez utiliser :\ninvite {2,}un lien d’invitation : [^]*\nVous pouvez aussi taper « inviter » au lieu de « invite » et « aide » au lieu de « help »\.$/,
      wrong: '« invite » ne prend que des options : invite [--expires-after D] [--note "TEXTE"], comme « invite --expires-after 1d ». Envoyez simplement « invite » pour obtenir une invitation qui fait de quelqu’un votre contact.',
      greeting: /^Bonjour ! Je suis le bot d’invitations de example\.org : .*\n\nCommandes que vous pouvez utiliser :\n/,
      unknown: 'Je n’ai pas compris « frobnicate ». Tapez « help » pour voir les commandes que vous pouvez utiliser.',
      adminOnly: 'Seuls les administrateurs peuvent utiliser « invite admin ». Tapez « help » pour voir les commandes que vous pouvez utiliser.',
      list: /^1 invitation en attente :\n[a-z0-9]{8} {2}contact seul {2}expire le 28 novembre 2026 à 12:00 UTC \(dans 7 jours\) {2}usage unique$/,
    },
    es: {
      created: /^Invitación de contacto: quien la abra pasa a ser tu contacto\. Válida hasta el 28 de noviembre de 2026 a las 12:00 UTC \(dentro de 7 días\), de un solo uso\.\nxmpp:ann@example\.org\?roster;preauth=\S+\nCompártela solo con la persona a la que invitas\. Identificador ([a-z0-9]{8}): «revoke \1» la anula\.$/,
      quota: 'Ya tienes 1 invitación sin usar, el máximo permitido; revócala primero.',
      help: /^Órdenes que puedes usar:\ninvite {2,}un enlace de invitación: [^]*\nTambién puedes escribir «invitar» en lugar de «invite» y «ayuda» en lugar de «help»\.$/,
      wrong: '«invite» solo lleva opciones: invite [--expires-after D] [--note "TEXTO"], como «invite --expires-after 1d». Envía solo «invite» para obtener una invitación que hace de alguien tu contacto.',
      greeting: /^¡Hola! Soy el bot de invitaciones de example\.org: .*\n\nÓrdenes que puedes usar:\n/,
      unknown: 'No he entendido «frobnicate». Escribe «help» para ver las órdenes que puedes usar.',
      adminOnly: 'Solo los administradores pueden usar «invite admin». Escribe «help» para ver las órdenes que puedes usar.',
      list: /^1 invitación pendiente:\n[a-z0-9]{8} {2}contacto {2}caduca el 28 de noviembre de 2026 a las 12:00 UTC \(dentro de 7 días\) {2}de un solo uso$/,
    },
  };

  for (const lang of LANGUAGES) {
    it(`answers every kind of message in ${lang}`, async () => {
      const e = expected[lang];
      const say = (text: string) => d.handle(USER, text, () => {}, lang);
      expect(await say('hallo')).to.match(e.greeting);
      expect(await say('frobnicate')).to.equal(e.unknown);
      expect(await say('invite')).to.match(e.created);
      expect(await say('invite')).to.equal(e.quota);
      expect(await say('invites')).to.match(e.list);
      expect(await say('help')).to.match(e.help);
      expect(await say('invite please')).to.equal(e.wrong);
      expect(await say('invite admin')).to.equal(e.adminOnly);
    });
  }

  it('speaks DEFAULT_LANGUAGE when the message names no language, and the message\'s own when it does', async () => {
    const fr = new Dispatcher(core.service, commands, () => core.clock.now, 'fr');
    expect(await fr.handle(USER, 'help')).to.match(/^Commandes que vous pouvez utiliser :/);
    expect(await fr.handle(USER, 'help', () => {}, 'de')).to.match(/^Befehle, die du verwenden kannst:/);
  });

  it('words the admin replies and the core\'s refusals in each language', async () => {
    const say = (text: string, lang: Lang) => d.handle(ADMIN, text, () => {}, lang);
    expect(await say('invite reset', 'de')).to.equal('„invite reset“ braucht den Benutzernamen des Kontos, danach auf Wunsch Optionen: invite reset BENUTZERNAME [--expires-after D] [--note "TEXT"]. Zum Beispiel „invite reset alice“.');
    expect(await say('invite account no/slash', 'es')).to.equal('«no/slash» no es un nombre de usuario válido.');
    expect(await say('invite account --role root', 'fr')).to.equal('« root » n’est pas un rôle ; les rôles sont admin, member, registered, guest.');
    expect(await say('invite account dora --role member', 'de')).to.match(/^Kontoeinladung für den Benutzernamen „dora“, mit der Rolle Mitglied: Sie erstellt ein Konto auf example\.org\. /);
    expect(await say('invite admin', 'es')).to.match(/^Invitación de cuenta, para un nuevo administrador: crea una cuenta en example\.org\. /);
    expect(await say('revoke zzzz2222', 'fr')).to.equal('Vous n’avez pas d’invitation avec l’identifiant « zzzz2222 ». Tapez « invites » pour voir leurs identifiants.');
    expect(await say('invites next', 'de')).to.equal('Es gibt keine Liste, die fortgesetzt werden könnte. Schreib „invites“ für deine oder „invites all“ für die von allen.');
  });

  it('refuses an account invite for a taken username and a reset of a missing account, in the language', async () => {
    core.service.server = { account: async (jid) => ({ exists: jid === 'alice@example.org', admin: false }) };
    const say = (text: string, lang: Lang) => d.handle(ADMIN, text, () => {}, lang);
    expect(await say('invite account alice', 'en')).to.equal('The account alice@example.org already exists; choose another username, or create a password reset invite with "invite reset alice".');
    expect(await say('invite reset bob', 'en')).to.equal('There is no account bob@example.org to reset.');
    expect(await say('invite account Alice', 'de')).to.equal('Das Konto alice@example.org gibt es schon; wähle einen anderen Benutzernamen oder erstelle mit „invite reset alice“ eine Einladung zum Zurücksetzen des Passworts.');
    expect(await say('invite reset bob', 'es')).to.equal('No existe ninguna cuenta bob@example.org que restablecer.');
    expect(await say('invite reset alice', 'en')).to.match(/^Password reset invite for alice@example\.org/);
    expect(await say('invite account bob', 'en')).to.match(/^Account invite for the username "bob"/);
  });
});

describe('splitWords: words as a shell splits them, with the quotes phones type', () => {
  const split = (text: string) => splitWords(normalizeText(text));
  it('keeps a quoted value whole, in "double", \'single\' and curly quotes of every language', () => {
    expect(split('invite --note "for the Berlin meetup"')).to.deep.equal(['invite', '--note', 'for the Berlin meetup']);
    expect(split("invite --note 'x y'")).to.deep.equal(['invite', '--note', 'x y']);
    expect(split('invite --note “for the meetup” --uses 3')).to.deep.equal(['invite', '--note', 'for the meetup', '--uses', '3']);
    expect(split('invite --note „für das Treffen“')).to.deep.equal(['invite', '--note', 'für das Treffen']);
    expect(split('invite --note ‘it’s mine’')).to.deep.equal(['invite', '--note', 'it’s mine']);
    expect(split('invite --note « pour la fête »')).to.deep.equal(['invite', '--note', 'pour la fête']);
    expect(split('invite --note »Treffen Berlin«')).to.deep.equal(['invite', '--note', 'Treffen Berlin']);
    expect(split('group create "Berlin  meetup"\tmeetup@conference.example.org')).to.deep.equal(['group', 'create', 'Berlin meetup', 'meetup@conference.example.org']);
  });
  it('lets straight and curly quotes close each other (pasted text mixes them), and reads a phone\'s dash as --', () => {
    expect(split('invite --note "spring meetup”')).to.deep.equal(['invite', '--note', 'spring meetup']);
    expect(split("invite --note ‘it was fun'")).to.deep.equal(['invite', '--note', 'it was fun']);
    expect(split('invite account —group=friends –uses 5 —note “a — b”')).to.deep.equal(['invite', 'account', '--group=friends', '--uses', '5', '--note', 'a — b']);
    expect(split('invite —note="x y"')).to.deep.equal(['invite', '--note=x y']);
  });
  it('takes --name="value" as one word, an apostrophe inside a word as a letter, and an unclosed quote as a character', () => {
    expect(split('invite --note="a b" x')).to.deep.equal(['invite', '--note=a b', 'x']);
    expect(split('invite --note=“a b”')).to.deep.equal(['invite', '--note=a b']);
    expect(split("invite account bob's")).to.deep.equal(['invite', 'account', "bob's"]);
    expect([...split('x "unclosed y')]).to.deep.equal(['x', '"unclosed', 'y']);
    expect(split('x "unclosed y').unclosed, 'marked: the command is refused').to.equal(true);
    expect(split('x "closed" y').unclosed).to.equal(undefined);
    expect(split('x ""')).to.deep.equal(['x', '']);
    expect(split('a "b"c d"')).to.deep.equal(['a', 'b"c d']);
  });
});

describe('Dispatcher: per-invite options and groups', () => {
  let core: Core;
  let groups: GroupService;
  let d: Dispatcher;
  beforeEach(async () => {
    core = await makeCore({ admins: [ADMIN], domain: 'example.org', maxInvitesPerUser: 5 });
    groups = new GroupService(core.store, 'example.org', (j) => core.service.isAdmin(j), () => core.clock.now);
    core.service.groups = groups;
    d = new Dispatcher(core.service, commands, () => core.clock.now);
  });
  afterEach(() => core.cleanup());
  const idOf = (reply: string) => /Id ([a-z0-9]{8}):/.exec(reply)?.[1];

  it('gives an account invite --uses, --expires-after and a quoted --note, and lists them', async () => {
    const reply = await d.handle(ADMIN, 'invite account --uses 3 --expires-after 2d --note "for the Berlin meetup"');
    expect(reply).to.match(/^Account invite: it creates an account on example\.org\. Valid until 23 November 2026 at 12:00 UTC \(in 2 days\), usable 3 times\. Your note \(never shown to the invited person\): "for the Berlin meetup"\.\nxmpp:example\.org\?register;preauth=/);
    const stored = await core.store.get(idOf(reply)!);
    expect(stored).to.deep.include({ maxUses: 3, note: 'for the Berlin meetup', expiresAt: '2026-11-23T12:00:00.000Z' });
    expect(await d.handle(ADMIN, 'invites all')).to.equal(`1 pending invite:\n${stored!.id}  account  expires 23 November 2026 at 12:00 UTC (in 2 days)  3 of 3 uses left  (boss@example.org)  note "for the Berlin meetup"`);
    // --note=TEXT, and the curly quotes a phone puts in.
    const curly = await d.handle(ADMIN, 'invite account dora --note=“für das Treffen” --role member');
    expect((await core.store.get(idOf(curly)!))?.note).to.equal('für das Treffen');
    const german = await d.handle(ADMIN, 'invite account --note „Treffen in Berlin“ --uses=2', () => {}, 'de');
    expect(german).to.match(/, 2-mal verwendbar\. Deine Notiz \(die eingeladene Person sieht sie nie\): „Treffen in Berlin“\.\n/);
    // A note that is only punctuation is still a note.
    expect((await core.store.get(idOf(await d.handle(ADMIN, 'invite --note "!"'))!))?.note).to.equal('!');
  });

  it('refuses a message whose quote is not closed, making nothing; takes a value that starts with a dash as the value', async () => {
    const unclosed = await d.handle(ADMIN, 'invite account --note "spring meetup');
    expect(unclosed).to.match(/^A quote in your message is not closed, so I did nothing\. "invite account" takes at most one username/);
    expect(await d.handle(ADMIN, 'invites all')).to.equal('There are no pending invites.');
    const dash = await d.handle(ADMIN, 'invite account --note "- buy milk"');
    expect((await core.store.get(idOf(dash)!))?.note).to.equal('- buy milk');
    expect(await d.handle(ADMIN, 'invite account --uses -1')).to.equal('The number of uses must be a whole number from 1 to 1000.');
    const phone = await d.handle(ADMIN, 'invite account —uses=4 –note “from my phone”');
    expect(await core.store.get(idOf(phone)!)).to.deep.include({ maxUses: 4, note: 'from my phone' });
  });

  it('finds a group whose name was given with odd spacing elsewhere (two spaces, a no-break space)', async () => {
    expect((await groups.create({ system: 'cli' }, 'Köln\u00a0crew')).ok).to.equal(true);
    expect(await d.handle(ADMIN, 'group add "Köln crew" ann')).to.equal('ann@example.org is now in the group "Köln crew".');
    expect((await groups.create({ system: 'cli' }, 'Köln  crew')).ok, 'the same name').to.equal(false);
  });

  it('lets admins make invites that never expire, and words them so everywhere', async () => {
    const reply = await d.handle(ADMIN, 'invite admin --expires-after never');
    expect(reply).to.match(/^Account invite, for a new administrator: it creates an account on example\.org\. It never expires, single use\.\n/);
    const id = idOf(reply)!;
    expect(await d.handle(ADMIN, 'invites')).to.equal(`1 pending invite:\n${id}  account  never expires  single use  (roles admin)`);
    expect(await d.handle(ADMIN, 'invites', () => {}, 'de')).to.equal(`1 offene Einladung:\n${id}  Konto  läuft nie ab  einmal verwendbar  (Rollen admin)`);
    expect(await d.handle(ADMIN, 'invite reset carol --expires-after 1h')).to.match(/Valid until 21 November 2026 at 13:00 UTC \(in 1 hour\), single use\./);
  });

  it('caps a user\'s lifetime at INVITE_EXPIRY and says so; refuses never, groups and bad values with a sentence', async () => {
    const capped = await d.handle(USER, 'invite --expires-after 4w --note “for Bob”');
    expect(capped).to.match(/^Contact invite: whoever opens it becomes your contact\. Valid until 28 November 2026 at 12:00 UTC \(in 7 days\), single use\. Your note \(never shown to the invited person\): "for Bob"\. Invites from user accounts are valid for at most 1 week, so this one is valid for 1 week\.\n/);
    expect(await d.handle(USER, 'invite contact --expires-after 1d')).to.match(/Valid until 22 November 2026 at 12:00 UTC \(in 1 day\), single use\.\n/);
    const table: [string, string, string][] = [
      [USER, 'invite --expires-after never', 'Only administrators can create invites that never expire.'],
      [USER, 'invite --group friends', 'Only administrators can manage groups or invite into them.'],
      [USER, 'invite --expires-after 2x', 'A lifetime is a number and a unit, such as 1h, 2d or 4w (at most ten years), or "never".'],
      [USER, `invite --note "${'n'.repeat(201)}"`, 'A note can be at most 200 characters long.'],
      [ADMIN, 'invite account --uses many', 'The number of uses must be a whole number from 1 to 1000.'],
      [ADMIN, 'invite account --uses 0', 'The number of uses must be a whole number from 1 to 1000.'],
      [ADMIN, 'invite account --uses 5000', 'The number of uses must be a whole number from 1 to 1000.'],
      [ADMIN, 'invite account bob --uses 2', 'An invite bound to one username can only be used once.'],
      [ADMIN, 'invite account --expires-after 0h', 'A lifetime is a number and a unit, such as 1h, 2d or 4w (at most ten years), or "never".'],
      [ADMIN, 'invite account --group nosuch', 'There is no group "nosuch"; "groups" lists them.'],
      [ADMIN, 'invite account --note', "\"invite account\" takes at most one username, then options: invite account [USERNAME] [--uses N] [--expires-after D] [--group G]\u2026 [--role R]\u2026 [--note \"TEXT\"]. For example \"invite account --uses 10 --expires-after 2d --note 'spring meetup'\", or just \"invite account\" to let the new person choose the username."],
      [ADMIN, 'invite contact --group x', '"invite contact" takes only options: invite contact [--expires-after D] [--note "TEXT"]. Send just "invite contact" to get an invite for someone who already has an account.'],
    ];
    for (const [who, text, reply] of table) expect(await d.handle(who, text), text).to.equal(reply);
    expect(await d.handle(USER, 'invite --expires-after never', () => {}, 'fr')).to.equal('Seuls les administrateurs peuvent créer des invitations qui n’expirent jamais.');
  });

  it('manages groups in chat, with quoted names, and invites into them', async () => {
    expect(await d.handle(ADMIN, 'groups')).to.equal('There are no groups yet. "group create NAME" makes one.');
    expect(await d.handle(ADMIN, 'group create "Berlin meetup" meetup@conference.example.org'))
      .to.equal('Group "Berlin meetup" created, with the room meetup@conference.example.org. "group add "Berlin meetup" JID" adds an account; "invite account --group "Berlin meetup"" invites someone new into it.');
    expect(await d.handle(ADMIN, 'group create friends')).to.match(/^Group "friends" created\. /);
    expect(await d.handle(ADMIN, 'group create Friends')).to.equal('There is already a group "friends".');
    expect(await d.handle(ADMIN, 'group add “berlin meetup” alice')).to.equal('alice@example.org is now in the group "Berlin meetup".');
    expect(await d.handle(ADMIN, 'group add "Berlin meetup" bob@example.org')).to.equal('bob@example.org is now in the group "Berlin meetup".');
    expect(await d.handle(ADMIN, 'group add friends eve@evil.example')).to.equal('"eve@evil.example" is not an account on example.org.');
    expect(await d.handle(ADMIN, 'groups')).to.equal('2 groups:\n"Berlin meetup"  room meetup@conference.example.org  2 members: alice@example.org, bob@example.org\nfriends  no room  no members');
    expect(await d.handle(ADMIN, 'groups', () => {}, 'de')).to.equal('2 Gruppen:\n"Berlin meetup"  Raum meetup@conference.example.org  2 Mitglieder: alice@example.org, bob@example.org\nfriends  kein Raum  keine Mitglieder');
    const invited = await d.handle(ADMIN, 'invite account --group "berlin MEETUP" --group friends');
    expect(invited).to.include('The new account joins the groups Berlin meetup, friends.');
    expect((await core.store.get(idOf(invited)!))?.groups).to.deep.equal(['Berlin meetup', 'friends']);
    expect(await d.handle(ADMIN, 'invites')).to.match(/  single use {2}\(groups Berlin meetup, friends\)$/);
    expect(await d.handle(ADMIN, 'group remove "Berlin meetup" alice')).to.equal('alice@example.org is no longer in the group "Berlin meetup".');
    expect(await d.handle(ADMIN, 'group remove "Berlin meetup" alice')).to.equal('alice@example.org is not in the group "Berlin meetup".');
    expect(await d.handle(ADMIN, 'group delete friends')).to.equal('Group "friends" deleted.');
    expect(await d.handle(ADMIN, 'group delete friends')).to.equal('There is no group "friends"; "groups" lists them.');
    expect(await d.handle(ADMIN, 'group add "Berlin meetup"')).to.equal('"group add" needs the group\'s name and the account, for example "group add friends alice".');
    expect(await d.handle(USER, 'groups')).to.equal('Only administrators can use "groups". Type "help" to see the commands you can use.');
    expect(await d.handle(USER, 'group create mine')).to.equal('Only administrators can use "group create". Type "help" to see the commands you can use.');
    expect((await groups.list()).map((g) => g.name)).to.deep.equal(['Berlin meetup']);
  });

  it('tells admins and users the options in help', async () => {
    expect(await d.handle(USER, 'help')).to.include('\nOptions for invites: --expires-after D (such as 1h or 2d; at most 1 week) and --note "TEXT"');
    const admin = await d.handle(ADMIN, 'help');
    expect(admin).to.include('\ngroup create NAME [ROOM_JID]  ').and.include('\nOptions for invites: --expires-after D (such as 1h, 2d or 4w, or never; users may give at most 1 week)');
  });

  it('says so where the service has no groups', async () => {
    const bare = await makeCore({ admins: [ADMIN] });
    try {
      const plain = new Dispatcher(bare.service, commands, () => bare.clock.now);
      expect(await plain.handle(ADMIN, 'groups')).to.equal('There are no groups on this service.');
    } finally {
      await bare.cleanup();
    }
  });
});
