// Switching from Prosody's own invites: a real Prosody (PROSODY_VERSION) first runs its
// mod_invites, invites of every kind are made with its own commands (prosodyctl, and
// mod_invites' API through prosodyctl shell where no command exists), one is used there;
// Prosody stops; its invite_token store is read; the same server (same data) then runs
// with our bridge, and the imported tokens work there.
// Record format: mod_invites.lua's create_invite(), Prosody 0.12.3
// /usr/lib/prosody/modules/mod_invites.lua and Prosody 13.0.1
// /opt/prosody13/usr/lib/prosody/modules/mod_invites.lua (see src/import/from-prosody.ts).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { readProsodyInvites } from '../../src/import/from-prosody.js';
import { hashToken } from '../../src/invites/tokens.js';
import type { Invite } from '../../src/invites/types.js';
import { LocalProsody } from '../../src/server/prosody/local-prosody.js';
import { prosodyBuild } from '../../src/server/prosody/builds.js';
import { eventually } from '../helpers/eventually.js';
import { refusal, registerWith } from '../helpers/ibr.js';
import { runScript } from '../helpers/scripts.js';
import { DOMAIN, PASSWORD, prosodyOf, type Stack, startStack } from '../helpers/stack.js';
import { connectUser, rosterOf } from '../helpers/xmpp-user.js';
import xml from '@xmpp/xml';

const run = promisify(execFile);
const build = prosodyBuild();
const V13 = build.version === '13';
const NEW_PASSWORD = 'after-the-reset-2';

/** prosodyctl against this server's config; the token of the invite it printed. */
async function made(server: LocalProsody, ...args: string[]): Promise<string> {
  const { stdout } = await run(server.build.prosodyctl, ['--config', server.configPath, ...args], { timeout: 20_000 });
  const token = /preauth=([A-Za-z0-9_-]+)/.exec(stdout)?.[1];
  if (!token) throw new Error(`prosodyctl ${args[0]} ${args[1] ?? ''} printed no invite: ${stdout}`);
  return token;
}

/** mod_invites' own Lua API (its exported functions), run inside the server by prosodyctl shell. */
const api = (server: LocalProsody, call: string) => made(server, 'shell', `>prosody.hosts[${JSON.stringify(DOMAIN)}].modules.invites.${call}.uri`);

describe(`import-prosody: Prosody ${build.version}'s own pending invites, imported (real Prosody)`, function () {
  this.timeout(120_000);
  let dir: string;
  let stack: Stack | undefined;
  const tokens: Record<string, string> = {};
  let read: Awaited<ReturnType<typeof readProsodyInvites>>;
  let first: { imported: number; skipped: number; unknownGroups: string[] };
  let again: { imported: number; skipped: number; unknownGroups: string[] };
  const byToken = (t: string) => read.invites.find((i) => i.tokenHash === hashToken(t));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'invites-import-'));
    // 1. Prosody with its own invite modules, not our bridge.
    const native = await LocalProsody.start({
      dir,
      domain: DOMAIN,
      hostModules: ['register', 'invites', 'invites_register', 'invites_adhoc', 'adhoc', ...(V13 ? ['invites_tracking'] : [])],
      hostOptions: { allow_registration: true, registration_invite_only: true },
    });
    try {
      await native.register('alice', PASSWORD);
      if (V13) {
        tokens.account = await made(native, 'shell', 'invite', 'create_account', DOMAIN);
        tokens.admin = await made(native, 'shell', 'invite', 'create_account', DOMAIN, '--role', 'prosody:admin');
        tokens.member = await made(native, 'shell', 'invite', 'create_account', DOMAIN, '--role', 'prosody:member');
        tokens.bob = await made(native, 'shell', 'invite', 'create_account', `bob@${DOMAIN}`, '--expires-after', '2d');
        tokens.reset = await made(native, 'shell', 'invite', 'create_reset', `alice@${DOMAIN}`);
        tokens.contact = await made(native, 'shell', 'invite', 'create_contact', `alice@${DOMAIN}`);
        tokens.accountContact = await made(native, 'shell', 'invite', 'create_contact', `alice@${DOMAIN}`, '--allow-registration');
        tokens.used = await made(native, 'shell', 'invite', 'create_account', DOMAIN);
      } else {
        tokens.account = await made(native, 'mod_invites', 'generate', DOMAIN);
        tokens.admin = await made(native, 'mod_invites', 'generate', DOMAIN, '--admin');
        tokens.member = await made(native, 'mod_invites', 'generate', DOMAIN, '--role', 'prosody:member');
        tokens.bob = await made(native, 'shell', `invite:create_account("bob@${DOMAIN}")`);
        tokens.reset = await made(native, 'mod_invites', 'generate', DOMAIN, '--reset', 'alice');
        tokens.contact = await made(native, 'shell', `invite:create_contact("alice@${DOMAIN}")`);
        tokens.accountContact = await made(native, 'shell', `invite:create_contact("alice@${DOMAIN}", true)`);
        tokens.used = await made(native, 'mod_invites', 'generate', DOMAIN);
      }
      // No command makes these on either version: mod_invites' create_group (reusable while it lasts) and a past expiry.
      tokens.group = await api(native, 'create_group({"team"}, {note="from Prosody: \\"team\\" ü"}, 7200)');
      tokens.expired = await api(native, 'create_account(nil, nil, -60)');
      // Used on Prosody itself (mod_invites deletes it); on 13, mod_invites_tracking records the group invite's use.
      await registerWith(native.service, DOMAIN, { token: tokens.used, username: 'early', password: PASSWORD });
      await registerWith(native.service, DOMAIN, { token: tokens.group, username: 'groupie1', password: PASSWORD });
      expect(await native.userExists('early')).to.equal(true);
    } finally {
      await native.stop();
    }

    // 2. Read Prosody's store, and the same server's data now with our bridge.
    read = await readProsodyInvites(join(dir, 'data'), DOMAIN, new Date());
    stack = await startStack({}, { prosody: { dir } });
    // The group Prosody's invite names exists here (an imported invite keeps only groups that do).
    await stack.app.groups.create({ system: 'cli' }, 'team');
    first = await stack.app.service.importInvites(read.invites);
    // A second import finds every one already there (same token hash).
    again = await stack.app.service.importInvites((await readProsodyInvites(join(dir, 'data'), DOMAIN, new Date())).invites);
  });

  after(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('imports every pending invite, skips the expired one, and nothing of the one used on Prosody', () => {
    expect(read.invites.length, JSON.stringify(read.skipped)).to.equal(8);
    expect(read.skipped).to.deep.equal([{ reason: 'expired', count: 1 }]);
    expect(byToken(tokens.used!), 'mod_invites deleted it when it was used').to.equal(undefined);
    expect(byToken(tokens.expired!)).to.equal(undefined);
    expect(first).to.deep.equal({ imported: 8, skipped: 0, unknownGroups: [] });
    expect(again).to.deep.equal({ imported: 0, skipped: 8, unknownGroups: [] });
  });

  it('npm run invites -- import-prosody DATA_DIR HOST, as an admin runs it beside the service: counts, nothing twice', async () => {
    const cli = await runScript('src/cli.ts', ['import-prosody', join(dir, 'data'), DOMAIN], {
      cwd: stack!.dir, vars: { XMPP_DOMAIN: DOMAIN, STORE_FILE: stack!.env.STORE_FILE! },
    });
    expect(cli.stderr).to.equal('');
    expect(cli.code).to.equal(0);
    expect(cli.stdout).to.equal('Imported 0 invites; skipped 9 (8 already here; 1 expired).\n');
    const wrongHost = await runScript('src/cli.ts', ['import-prosody', join(dir, 'data'), 'nowhere.example'], {
      cwd: stack!.dir, vars: { XMPP_DOMAIN: DOMAIN, STORE_FILE: stack!.env.STORE_FILE! },
    });
    expect(wrongHost.code).to.not.equal(0);
    expect(wrongHost.stderr).to.include('nowhere.example');
  });

  it('keeps kind, inviter, username, roles, expiry, reuse, note and groups; stores no token', () => {
    const json = JSON.stringify(read.invites);
    for (const t of Object.values(tokens)) expect(json).to.not.include(t);
    expect(byToken(tokens.account!)).to.include({ kind: 'account', createdBy: 'prosody-import', maxUses: 1 });
    expect(byToken(tokens.account!)!.roles).to.deep.equal([]);
    expect(byToken(tokens.admin!)!.roles).to.deep.equal(['admin']);
    expect(byToken(tokens.member!)!.roles).to.deep.equal(['member']);
    expect(byToken(tokens.bob!)).to.include({ kind: 'account', username: 'bob' });
    expect(byToken(tokens.reset!)).to.include({ kind: 'reset', username: 'alice' });
    expect(byToken(tokens.contact!)).to.include({ kind: 'contact', inviter: `alice@${DOMAIN}`, createdBy: `alice@${DOMAIN}` });
    expect(byToken(tokens.accountContact!)).to.include({ kind: 'account-contact', inviter: `alice@${DOMAIN}` });
    const group = byToken(tokens.group!)!;
    expect(group).to.include({ kind: 'account', note: 'from Prosody: "team" ü' });
    expect(group.groups).to.deep.equal(['team']);
    expect(group.maxUses).to.be.greaterThan(1);
    // Only 13 ships mod_invites_tracking, which says who used a reusable invite.
    expect(group.uses.map((u) => u.jid)).to.deep.equal(V13 ? [`groupie1@${DOMAIN}`] : []);
    // Expiry as Prosody had it: the reset a day, the bound invite two days (13) or the default week.
    const days = (i: Invite) => Math.round((Date.parse(i.expiresAt) - Date.parse(i.createdAt)) / 86_400_000);
    expect(days(byToken(tokens.reset!)!)).to.equal(1);
    expect(days(byToken(tokens.account!)!)).to.equal(7);
    expect(days(byToken(tokens.bob!)!)).to.equal(V13 ? 2 : 7);
  });

  it('registers in-band with imported tokens through the bridge, with their roles and bound names', async () => {
    const { service } = stack!.server;
    await registerWith(service, DOMAIN, { token: tokens.account!, username: 'newbie', password: PASSWORD });
    expect(await stack!.server.userExists('newbie')).to.equal(true);

    await registerWith(service, DOMAIN, { token: tokens.admin!, username: 'newadmin', password: PASSWORD });
    expect(await prosodyOf(stack!).roles('newadmin')).to.include('prosody:admin');
    await registerWith(service, DOMAIN, { token: tokens.member!, username: 'newmember', password: PASSWORD });
    expect(await prosodyOf(stack!).roles('newmember')).to.include('prosody:member');

    await refusal(registerWith(service, DOMAIN, { token: tokens.bob!, username: 'notbob', password: PASSWORD }));
    expect(await stack!.server.userExists('notbob')).to.equal(false);
    await registerWith(service, DOMAIN, { token: tokens.bob!, username: 'bob', password: PASSWORD });
    expect(await stack!.server.userExists('bob')).to.equal(true);

    // Reusable: more accounts from the same group invite.
    await registerWith(service, DOMAIN, { token: tokens.group!, username: 'groupie2', password: PASSWORD });
    await registerWith(service, DOMAIN, { token: tokens.group!, username: 'groupie3', password: PASSWORD });
    expect(await stack!.server.userExists('groupie3')).to.equal(true);
  });

  it('an imported account+contact invite makes the new account a contact of its inviter', async () => {
    await registerWith(stack!.server.service, DOMAIN, { token: tokens.accountContact!, username: 'friend', password: PASSWORD });
    const alice = await stack!.user(`alice@${DOMAIN}`);
    const roster = await eventually(() => rosterOf(alice), (r) => r.get(`friend@${DOMAIN}`)?.subscription === 'both');
    expect(roster.get(`friend@${DOMAIN}`)?.subscription).to.equal('both');
  });

  it('an imported contact invite approves the subscription that carries it (XEP-0379)', async () => {
    const alice = await stack!.user(`alice@${DOMAIN}`);
    const carol = await stack!.user(`carol@${DOMAIN}`);
    await carol.send(xml('presence', { to: `alice@${DOMAIN}`, type: 'subscribe' }, xml('preauth', { xmlns: 'urn:xmpp:pars:0', token: tokens.contact! })));
    const carolRoster = await eventually(() => rosterOf(carol), (r) => ['to', 'both'].includes(r.get(`alice@${DOMAIN}`)?.subscription ?? ''));
    expect(carolRoster.get(`alice@${DOMAIN}`)?.subscription).to.be.oneOf(['to', 'both']);
    expect((await rosterOf(alice)).get(`carol@${DOMAIN}`)?.subscription).to.be.oneOf(['from', 'both']);
    expect((await stack!.app.service.lookup(tokens.contact!)).state).to.equal('used');
  });

  it('an imported reset token resets the password of its account, once', async () => {
    const before = await prosodyOf(stack!).accountRecord('alice');
    await registerWith(stack!.server.service, DOMAIN, { token: tokens.reset!, username: 'alice', password: NEW_PASSWORD });
    expect(await prosodyOf(stack!).accountRecord('alice')).to.not.equal(before);
    const alice = await connectUser(stack!.server.service, `alice@${DOMAIN}`, NEW_PASSWORD);
    stack!.users.push(alice);
    await refusal(registerWith(stack!.server.service, DOMAIN, { token: tokens.reset!, username: 'alice', password: PASSWORD }));
  });

  it('the expired token and the token used on Prosody register nothing', async () => {
    const { service } = stack!.server;
    await refusal(registerWith(service, DOMAIN, { token: tokens.expired!, username: 'late', password: PASSWORD }));
    await refusal(registerWith(service, DOMAIN, { token: tokens.used!, username: 'again', password: PASSWORD }));
    expect(await stack!.server.userExists('late')).to.equal(false);
    expect(await stack!.server.userExists('again')).to.equal(false);
  });
});

describe('import-prosody: a damaged or odd invite_token store is read without crashing', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'invites-import-odd-'));
    const host = join(dir, 'odd%2elocalhost');
    await mkdir(join(host, 'invite_token'), { recursive: true });
    const future = Math.floor(Date.now() / 1000) + 3600;
    const rec = (token: string, fields: string) => `\t["${token}"] = {\n\t\t["token"] = "${token}";\n${fields}\t};\n`;
    await writeFile(join(host, 'invite_token.dat'), `return {\n${[
      rec('AAAAAAAAAAAAAAAAAAAAAAAA', `\t\t["type"] = "muc";\n\t\t["jid"] = "odd.localhost";\n\t\t["expires"] = ${future};\n`),
      rec('BBBBBBBBBBBBBBBBBBBBBBBB', '\t\t["type"] = "register";\n\t\t["jid"] = "odd.localhost";\n'),
      rec('CCCCCCCCCCCCCCCCCCCCCCCC', `\t\t["type"] = "register";\n\t\t["jid"] = "odd.localhost";\n\t\t["expires"] = ${future};\n\t\t["additional_data"] = {\n\t\t\t["roles"] = {\n\t\t\t\t"prosody:operator";\n\t\t\t};\n\t\t};\n`),
      rec('DDDDDDDDDDDDDDDDDDDDDDDD', `\t\t["type"] = "register";\n\t\t["jid"] = "d\\195\\169j\\195\\160@odd.localhost";\n\t\t["expires"] = ${future}.0;\n\t\t["additional_data"] = {\n\t\t\t["note"] = "tab\\tand \\"quotes\\" \\226\\130\\172";\n\t\t};\n`),
      // A reset for "alıce" (U+0131): kept exactly, as Prosody compares it; folded, it was one for "alice".
      rec('JJJJJJJJJJJJJJJJJJJJJJJJ', `\t\t["type"] = "register";\n\t\t["jid"] = "odd.localhost";\n\t\t["expires"] = ${future};\n\t\t["additional_data"] = {\n\t\t\t["allow_reset"] = "al\\196\\177ce";\n\t\t};\n`),
      rec('EEEEEEEEEEEEEEEEEEEEEEEE', `\t\t["type"] = "register";\n\t\t["jid"] = "someone@elsewhere.example";\n\t\t["expires"] = ${future};\n`),
      '\t["short"] = 1;\n',
    ].join('')}};\n`);
    // Not data at all: must be parsed, never run.
    await writeFile(join(host, 'invite_token', 'mallory.dat'), 'return os.execute("touch pwned");\n');
    // Cut short (as by a full disk): the whole file is skipped, the others are read.
    await writeFile(join(host, 'invite_token', 'bob.dat'), `return {\n\t["FFFFFFFFFFFFFFFFFFFFFFFF"] = ${future};\n\t["GGGGGGG`);
    await writeFile(join(host, 'invite_token', 'dave.dat'), `return {\n\t["IIIIIIIIIIIIIIIIIIIIIIII"] = "soon";\n};\n`);
    await writeFile(join(host, 'invite_token', 'carol.dat'), `return {\n\t["HHHHHHHHHHHHHHHHHHHHHHHH"] = ${future};\n};\n`);
  });
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('imports what it can, and counts the rest by reason', async () => {
    const { invites, skipped } = await readProsodyInvites(dir, 'odd.localhost', new Date());
    expect(invites.map((i) => [i.kind, i.username ?? i.inviter, i.note])).to.deep.equal([
      ['account', 'déjà', 'tab\tand "quotes" €'],
      ['reset', 'al\u0131ce', undefined],
      ['contact', 'carol@odd.localhost', undefined],
    ]);
    const files = skipped.filter((s) => s.reason.startsWith('malformed file '));
    expect(files.map((s) => s.reason)).to.have.length(2);
    expect(files[0]!.reason).to.match(/^malformed file odd%2elocalhost\/invite_token\/bob\.dat: not a Prosody store file \(unfinished string at byte \d+\)$/);
    expect(files[1]!.reason).to.match(/^malformed file odd%2elocalhost\/invite_token\/mallory\.dat: not a Prosody store file \(unexpected character at byte \d+\)$/);
    expect(Object.fromEntries(skipped.filter((s) => !files.includes(s)).map((s) => [s.reason, s.count]))).to.deep.equal({
      'unknown type': 1,
      'malformed (no expiry)': 2,
      'unknown role "prosody:operator"': 1,
      'malformed (jid not of odd.localhost)': 1,
      'malformed (not a token)': 1,
    });
    expect(fs.existsSync(join(process.cwd(), 'pwned'))).to.equal(false);
  });

  it('names the hosts there when the data dir has none for HOST', async () => {
    const err = await readProsodyInvites(dir, 'localhost', new Date()).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/has no data for localhost .*hosts there: odd\.localhost/);
  });
});
