import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadDotEnv, parseConfig } from '../../src/config.js';
import { runScript, TSX_LOADER } from '../helpers/scripts.js';

type Env = Record<string, string | undefined>;

const PASSWORD = 's3cret-value';
const minimal: Env = { XMPP_SERVICE: 'xmpp://127.0.0.1:5222', BOT_JID: 'invitebot@example.org', BOT_PASSWORD: PASSWORD };

/** The ConfigError parseConfig throws; fails the test if it returns or throws anything else. */
function configError(env: Env, opts: { localDefaults?: boolean } = {}): ConfigError {
  let config: unknown;
  try {
    config = parseConfig(env, opts);
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return e as ConfigError;
  }
  expect.fail(`expected a ConfigError, got ${JSON.stringify(config)}`);
}

describe('parseConfig', () => {
  it('fills every default from a minimal environment', () => {
    expect(parseConfig(minimal)).to.deep.equal({
      xmppService: 'xmpp://127.0.0.1:5222',
      xmppDomain: 'example.org',
      botJid: 'invitebot@example.org',
      botPassword: PASSWORD,
      botResource: 'bot',
      botName: 'Invite bot',
      language: 'en',
      botRateLimit: { points: 10, duration: 30 },
      adhocRateLimit: { points: 20, duration: 30 },
      rateLimitAdmins: false,
      preauthRateLimit: { points: 30, duration: 60 },
      preauthLimitExempt: [],
      componentDomain: 'invites.example.org',
      componentService: 'xmpp://127.0.0.1:5347',
      componentSecret: undefined,
      admins: [],
      storeFile: 'data/invites.json',
      storeUrl: undefined,
      storeFsync: false,
      publicUrl: undefined,
      httpHost: '127.0.0.1',
      httpPort: 8080,
      trustProxy: false,
      metricsToken: undefined,
      clientsFile: undefined,
      inviteExpiry: 604800,
      resetExpiry: 86400,
      allowUserInvites: false,
      allowContactInvites: true,
      registrationInviteOnly: true,
      maxInvitesPerUser: 10,
      maxInvitesPerDay: 30,
      archiveDays: 90,
      xmppDebug: false,
    });
  });

  it('derives the domain from BOT_JID and the component domain from the domain', () => {
    const c = parseConfig({ ...minimal, BOT_JID: 'Bot@Chat.Example.NET' });
    expect(c.botJid).to.equal('bot@chat.example.net');
    expect(c.xmppDomain).to.equal('chat.example.net');
    expect(c.componentDomain).to.equal('invites.chat.example.net');
  });

  it('treats empty and blank variables as unset', () => {
    const c = parseConfig({ ...minimal, INVITE_EXPIRY: '', BOT_RESOURCE: '   ', ALLOW_USER_INVITES: ' ' });
    expect(c.inviteExpiry).to.equal(604800);
    expect(c.botResource).to.equal('bot');
    expect(c.allowUserInvites).to.equal(false);
  });

  it('reads numbers, URLs and resources that are valid', () => {
    const c = parseConfig({
      ...minimal, INVITE_EXPIRY: '60', RESET_EXPIRY: ' 3600 ', MAX_INVITES_PER_USER: '0', HTTP_PORT: '65535',
      PUBLIC_URL: 'https://invites.example.org//', BOT_RESOURCE: 'inviter', BOT_RATE_LIMIT: ' 5 / 60 ',
    });
    expect(c.botRateLimit).to.deep.equal({ points: 5, duration: 60 });
    expect([c.inviteExpiry, c.resetExpiry, c.maxInvitesPerUser, c.httpPort]).to.deep.equal([60, 3600, 0, 65535]);
    expect(c.publicUrl).to.equal('https://invites.example.org');
    expect(c.botResource).to.equal('inviter');
  });

  it('reads BOT_NAME (the bot as a contact), one short line', () => {
    expect(parseConfig({ ...minimal, BOT_NAME: ' Einladungen ' }).botName).to.equal('Einladungen');
    expect(parseConfig({ ...minimal, BOT_NAME: '  ' }).botName).to.equal('Invite bot');
    expect(() => parseConfig({ ...minimal, BOT_NAME: 'two\nlines' })).to.throw(ConfigError, /BOT_NAME/);
    expect(() => parseConfig({ ...minimal, BOT_NAME: 'x'.repeat(65) })).to.throw(ConfigError, /BOT_NAME/);
  });

  it('reads TRUST_PROXY as a boolean or a list of addresses, and CLIENTS_FILE as a path', () => {
    expect(parseConfig({ ...minimal, TRUST_PROXY: 'yes' }).trustProxy).to.equal(true);
    expect(parseConfig({ ...minimal, TRUST_PROXY: 'off' }).trustProxy).to.equal(false);
    expect(parseConfig({ ...minimal, TRUST_PROXY: ' 127.0.0.1, ::1 ,10.0.0.0/8,fd00::/8' }).trustProxy)
      .to.deep.equal(['127.0.0.1', '::1', '10.0.0.0/8', 'fd00::/8']);
    expect(parseConfig({ ...minimal, CLIENTS_FILE: ' /etc/invites/clients.json ' }).clientsFile).to.equal('/etc/invites/clients.json');
  });

  describe('booleans', () => {
    const vars = ['ALLOW_USER_INVITES', 'ALLOW_CONTACT_INVITES', 'REGISTRATION_INVITE_ONLY', 'XMPP_DEBUG'] as const;
    const key = { ALLOW_USER_INVITES: 'allowUserInvites', ALLOW_CONTACT_INVITES: 'allowContactInvites', REGISTRATION_INVITE_ONLY: 'registrationInviteOnly', XMPP_DEBUG: 'xmppDebug' } as const;
    const words: [string, boolean][] = [['true', true], ['false', false], ['1', true], ['0', false], ['yes', true], ['no', false], ['on', true], ['off', false]];
    const spellings = (w: string) => [w, w.toUpperCase(), w[0]!.toUpperCase() + w.slice(1), ` ${w} `];

    for (const v of vars) {
      it(`${v} accepts true/false/1/0/yes/no/on/off in any case`, () => {
        for (const [word, value] of words) {
          for (const s of spellings(word)) {
            expect(parseConfig({ ...minimal, [v]: s })[key[v]], `${v}=${JSON.stringify(s)}`).to.equal(value);
          }
        }
      });
    }
  });

  describe('invalid values', () => {
    const cases: { name: string; env: Env; variable: string }[] = [
      { name: 'XMPP_SERVICE without a scheme', env: { XMPP_SERVICE: 'localhost' }, variable: 'XMPP_SERVICE' },
      { name: 'XMPP_SERVICE with a path', env: { XMPP_SERVICE: 'xmpp://h:5222/x' }, variable: 'XMPP_SERVICE' },
      { name: 'BOT_JID without a local part', env: { BOT_JID: 'nobody' }, variable: 'BOT_JID' },
      { name: 'BOT_JID with a resource', env: { BOT_JID: 'invitebot@example.org/phone' }, variable: 'BOT_JID' },
      { name: 'BOT_JID on another domain than XMPP_DOMAIN', env: { XMPP_DOMAIN: 'example.net' }, variable: 'BOT_JID' },
      { name: 'ADMINS with a non-JID entry', env: { ADMINS: 'a@b.c, junk' }, variable: 'ADMINS' },
      { name: 'ADMINS with a full JID', env: { ADMINS: 'a@b.c/res' }, variable: 'ADMINS' },
      { name: 'INVITE_EXPIRY with a unit', env: { INVITE_EXPIRY: '7d' }, variable: 'INVITE_EXPIRY' },
      { name: 'INVITE_EXPIRY negative', env: { INVITE_EXPIRY: '-5' }, variable: 'INVITE_EXPIRY' },
      { name: 'INVITE_EXPIRY below a minute', env: { INVITE_EXPIRY: '10' }, variable: 'INVITE_EXPIRY' },
      { name: 'RESET_EXPIRY not a number', env: { RESET_EXPIRY: 'abc' }, variable: 'RESET_EXPIRY' },
      { name: 'MAX_INVITES_PER_USER fractional', env: { MAX_INVITES_PER_USER: '1.5' }, variable: 'MAX_INVITES_PER_USER' },
      { name: 'HTTP_PORT out of range', env: { HTTP_PORT: '70000' }, variable: 'HTTP_PORT' },
      { name: 'PUBLIC_URL not http(s)', env: { PUBLIC_URL: 'ftp://x' }, variable: 'PUBLIC_URL' },
      { name: 'PUBLIC_URL not a URL', env: { PUBLIC_URL: 'invites.example.org' }, variable: 'PUBLIC_URL' },
      { name: 'TRUST_PROXY not an address', env: { TRUST_PROXY: 'proxy.example.org' }, variable: 'TRUST_PROXY' },
      { name: 'TRUST_PROXY with a bad CIDR', env: { TRUST_PROXY: '10.0.0.0/33' }, variable: 'TRUST_PROXY' },
      { name: 'ALLOW_USER_INVITES not a boolean', env: { ALLOW_USER_INVITES: 'maybe' }, variable: 'ALLOW_USER_INVITES' },
      { name: 'XMPP_DEBUG not a boolean', env: { XMPP_DEBUG: '2' }, variable: 'XMPP_DEBUG' },
      { name: 'BOT_RESOURCE with a space', env: { BOT_RESOURCE: 'a b' }, variable: 'BOT_RESOURCE' },
      { name: 'BOT_RESOURCE too long', env: { BOT_RESOURCE: 'r'.repeat(65) }, variable: 'BOT_RESOURCE' },
      { name: 'BOT_RATE_LIMIT without seconds', env: { BOT_RATE_LIMIT: '10' }, variable: 'BOT_RATE_LIMIT' },
      { name: 'BOT_RATE_LIMIT of zero commands', env: { BOT_RATE_LIMIT: '0/30' }, variable: 'BOT_RATE_LIMIT' },
      { name: 'BOT_RATE_LIMIT with a unit', env: { BOT_RATE_LIMIT: '10/30s' }, variable: 'BOT_RATE_LIMIT' },
      { name: 'PREAUTH_LIMIT_EXEMPT with a name', env: { PREAUTH_LIMIT_EXEMPT: '127.0.0.1,localhost' }, variable: 'PREAUTH_LIMIT_EXEMPT' },
      { name: 'ADHOC_RATE_LIMIT of zero', env: { ADHOC_RATE_LIMIT: '0/30' }, variable: 'ADHOC_RATE_LIMIT' },
      { name: 'XMPP_DOMAIN not a domain', env: { XMPP_DOMAIN: 'bad domain!' }, variable: 'XMPP_DOMAIN' },
      { name: 'COMPONENT_DOMAIN not a domain', env: { COMPONENT_DOMAIN: 'x y' }, variable: 'COMPONENT_DOMAIN' },
      { name: 'COMPONENT_SERVICE not an xmpp address', env: { COMPONENT_SERVICE: 'http://127.0.0.1:5347' }, variable: 'COMPONENT_SERVICE' },
      { name: 'XMPP_SERVICE missing (no local defaults)', env: { XMPP_SERVICE: undefined }, variable: 'XMPP_SERVICE' },
      { name: 'XMPP_SERVICE blank (no local defaults)', env: { XMPP_SERVICE: '  ' }, variable: 'XMPP_SERVICE' },
      { name: 'BOT_JID missing', env: { BOT_JID: undefined }, variable: 'BOT_JID' },
      { name: 'BOT_PASSWORD missing', env: { BOT_PASSWORD: undefined }, variable: 'BOT_PASSWORD' },
      { name: 'BOT_PASSWORD blank', env: { BOT_PASSWORD: '   ' }, variable: 'BOT_PASSWORD' },
      { name: 'STORE_URL not PostgreSQL', env: { STORE_URL: `mysql://u:${PASSWORD}@db.example.org/invites` }, variable: 'STORE_URL' },
      { name: 'STORE_URL not a URL', env: { STORE_URL: `u:${PASSWORD}@db.example.org/invites` }, variable: 'STORE_URL' },
      { name: 'STORE_URL without a host', env: { STORE_URL: `postgresql://u:${PASSWORD}@/invites` }, variable: 'STORE_URL' },
    ];

    for (const c of cases) {
      it(`${c.name}: ConfigError naming ${c.variable}, without the password`, () => {
        const e = configError({ ...minimal, ...c.env });
        expect(e.variable).to.equal(c.variable);
        expect(e.message.startsWith(`${c.variable}: expected `), e.message).to.equal(true);
        expect(e.message).to.not.include(PASSWORD);
        expect(String(e)).to.not.include(PASSWORD);
      });
    }

    it('names the domain BOT_JID should be on', () => {
      expect(configError({ ...minimal, XMPP_DOMAIN: 'example.net' }).message).to.equal('BOT_JID: expected an account on XMPP_DOMAIN (example.net)');
    });

    it('gives the accepted range of a number', () => {
      expect(configError({ ...minimal, HTTP_PORT: '70000' }).message).to.equal('HTTP_PORT: expected a whole number from 0 to 65535');
    });
  });

  describe('local defaults', () => {
    it('an empty environment runs against a local server', () => {
      const c = parseConfig({}, { localDefaults: true });
      expect(c.botJid).to.equal('invitebot@localhost');
      expect(c.xmppDomain).to.equal('localhost');
      expect(c.xmppService).to.equal(undefined);
      expect(c.botPassword).to.equal('');
      expect(c.componentDomain).to.equal('invites.localhost');
    });

    it('uses XMPP_DOMAIN for the default bot account', () => {
      const c = parseConfig({ XMPP_DOMAIN: 'Test.Example' }, { localDefaults: true });
      expect(c.botJid).to.equal('invitebot@test.example');
      expect(c.xmppDomain).to.equal('test.example');
    });

    it('still validates what is set', () => {
      expect(configError({ INVITE_EXPIRY: 'abc' }, { localDefaults: true }).variable).to.equal('INVITE_EXPIRY');
    });

    it('do not apply once XMPP_SERVICE is set', () => {
      expect(configError({ XMPP_SERVICE: 'xmpp://127.0.0.1:5222' }, { localDefaults: true }).variable).to.equal('BOT_JID');
    });
  });

  it('STORE_URL: a postgresql:// or postgres:// URL, taken as given; empty is unset (lowdb)', () => {
    const url = `postgresql://invites:${PASSWORD}@db.example.org:5433/invites?sslmode=require`;
    expect(parseConfig({ ...minimal, STORE_URL: ` ${url} ` }).storeUrl).to.equal(url);
    expect(parseConfig({ ...minimal, STORE_URL: 'postgres://db.example.org/invites' }).storeUrl).to.equal('postgres://db.example.org/invites');
    expect(parseConfig({ ...minimal, STORE_URL: 'postgresql:///invites?host=/run/postgresql' }).storeUrl).to.equal('postgresql:///invites?host=/run/postgresql');
    expect(parseConfig({ ...minimal, STORE_URL: '' }).storeUrl).to.equal(undefined);
  });

  it('ADMINS: lower-cased bare JIDs, trimmed, empty entries ignored', () => {
    const c = parseConfig({ ...minimal, ADMINS: ' Boss@Example.ORG , ,ann@example.org,,  Eve@Other.Example ' });
    expect(c.admins).to.deep.equal(['boss@example.org', 'ann@example.org', 'eve@other.example']);
    expect(parseConfig({ ...minimal, ADMINS: ' , ,' }).admins).to.deep.equal([]);
  });
});

describe('loadDotEnv', () => {
  const names = ['INVITE_EXPIRY', 'BOT_RESOURCE', 'DOTENV_TEST_ONLY'] as const;
  let saved: Record<string, string | undefined>;
  let dir: string;

  beforeEach(async () => {
    saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
    dir = await mkdtemp(join(tmpdir(), 'invites-config-'));
  });

  afterEach(async () => {
    for (const n of names) {
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('sets what is unset, and the real environment wins', async () => {
    const file = join(dir, '.env');
    await writeFile(file, 'INVITE_EXPIRY=120\nBOT_RESOURCE=fromfile\nDOTENV_TEST_ONLY="quoted value"\n');
    delete process.env.INVITE_EXPIRY;
    delete process.env.DOTENV_TEST_ONLY;
    process.env.BOT_RESOURCE = 'fromenv';
    loadDotEnv(file);
    expect(process.env.INVITE_EXPIRY).to.equal('120');
    expect(process.env.BOT_RESOURCE).to.equal('fromenv');
    expect(process.env.DOTENV_TEST_ONLY).to.equal('quoted value');
  });

  it('refuses a .env others can read when it holds a STORE_URL with a password, not one without', async () => {
    const file = join(dir, '.env');
    const saved = process.env.STORE_URL;
    delete process.env.STORE_URL;
    try {
      await writeFile(file, `STORE_URL=postgresql://invites:${PASSWORD}@db.example.org/invites\n`, { mode: 0o644 });
      await chmod(file, 0o644);
      expect(() => loadDotEnv(file)).to.throw(/the password of STORE_URL.*chmod 600/);
      expect(process.env.STORE_URL).to.equal(undefined);
      await writeFile(file, 'STORE_URL=postgresql://db.example.org/invites\n');
      loadDotEnv(file);
      expect(process.env.STORE_URL).to.equal('postgresql://db.example.org/invites');
    } finally {
      if (saved === undefined) delete process.env.STORE_URL;
      else process.env.STORE_URL = saved;
    }
  });

  it('does nothing when the file does not exist', () => {
    delete process.env.INVITE_EXPIRY;
    expect(() => loadDotEnv(join(dir, 'missing.env'))).to.not.throw();
    expect(process.env.INVITE_EXPIRY).to.equal(undefined);
  });
});

describe('configuration errors at startup (spawned)', function () {
  this.timeout(30000);

  let cwd: string;

  beforeEach(async () => {
    // An empty directory: no .env the process could pick up, and nothing it may write goes into the project.
    cwd = await mkdtemp(join(tmpdir(), 'invites-startup-'));
  });
  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  const run = (script: string, args: string[], vars: Record<string, string>) => runScript(script, args, { cwd, vars });

  it('the tsx loader exists where the spawn expects it', () => {
    expect(existsSync(TSX_LOADER), TSX_LOADER).to.equal(true);
  });

  it('npm start: exit 2, one line naming XMPP_SERVICE, no stack trace, no password', async () => {
    const r = await run('src/main.ts', [], { XMPP_SERVICE: 'nonsense', BOT_JID: 'invitebot@example.org', BOT_PASSWORD: PASSWORD });
    expect(r.stderr).to.match(/^Configuration error: XMPP_SERVICE: expected [^\n]+\n$/);
    expect(r.stderr).to.not.include('    at ');
    expect(r.stderr).to.not.include(PASSWORD);
    expect(r.stdout).to.equal('');
    expect(r.code).to.equal(2);
    expect(await readdir(cwd)).to.deep.equal([]);
  });

  it('npm run invites -- list: exit 2, one line naming INVITE_EXPIRY, no stack trace', async () => {
    const r = await run('src/cli.ts', ['list'], { INVITE_EXPIRY: 'abc' });
    expect(r.stderr).to.match(/^Configuration error: INVITE_EXPIRY: expected [^\n]+\n$/);
    expect(r.stderr).to.not.include('    at ');
    expect(r.stdout).to.equal('');
    expect(r.code).to.equal(2);
    expect(await readdir(cwd)).to.deep.equal([]);
  });
});

describe('parseConfig: review findings', () => {
  it('reports an invalid XMPP_SERVICE before a missing BOT_JID', () => {
    let err: unknown;
    try { parseConfig({ XMPP_SERVICE: 'nonsense' }); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).variable).to.equal('XMPP_SERVICE');
  });

  it('keeps spaces that are part of a password', () => {
    expect(parseConfig({ XMPP_SERVICE: 'xmpp://127.0.0.1:5222', BOT_JID: 'bot@example.org', BOT_PASSWORD: ' pass word ' }).botPassword).to.equal(' pass word ');
  });

  it('refuses a BOT_JID with an empty resource', () => {
    expect(() => parseConfig({ XMPP_SERVICE: 'xmpp://127.0.0.1:5222', BOT_JID: 'bot@example.org/', BOT_PASSWORD: 'x' })).to.throw(ConfigError, /^BOT_JID: expected/);
  });
});
