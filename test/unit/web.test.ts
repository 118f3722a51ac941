// The web side over real HTTP, with a real invite core and a stand-in for the
// server's admin commands (the real ones are in test/integration/web.test.ts).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { FastifyInstance } from 'fastify';
import { Dispatcher } from '../../src/bot/dispatch.js';
import { commands } from '../../commands/index.js';
import type { CreatedInvite, CreateRequest } from '../../src/invites/service.js';
import type { Actor } from '../../src/invites/types.js';
import { formatExpiry } from '../../src/i18n/i18n.js';
import { ClientListError, loadClients } from '../../src/web/clients.js';
import { passwordProblem } from '../../src/web/password-policy.js';
import { buildWeb, type WebOptions } from '../../src/web/server.js';
import type { AccountAdmin, AdminResult } from '../../src/server/server.js';
import { type Core, makeCore } from '../helpers/core.js';
import { captureStderr } from '../helpers/stderr.js';
import { csrfOf, heading, tokenOf, WebClient } from '../helpers/web.js';

const PUBLIC_URL = 'https://chat.example.org/join';
const BASE = '/join';

/** Accounts in memory; `next` forces one answer, `gate` holds add-user until opened. */
class FakeAdmin implements AccountAdmin {
  readonly accounts = new Map<string, string>();
  next?: AdminResult;
  gate?: Promise<void>;
  calls = 0;

  async addUser(username: string, password: string): Promise<AdminResult> {
    this.calls++;
    await this.gate;
    if (this.next) return this.next;
    if (this.accounts.has(username)) return { ok: false, reason: 'exists', message: 'Account already exists' };
    this.accounts.set(username, password);
    return { ok: true };
  }

  async changePassword(username: string, password: string): Promise<AdminResult> {
    this.calls++;
    if (this.next) return this.next;
    if (!this.accounts.has(username)) return { ok: false, reason: 'no-such-user', message: 'User does not exist' };
    this.accounts.set(username, password);
    return { ok: true };
  }
}

describe('web pages (HTTP, stand-in server)', () => {
  let core: Core;
  let admin: FakeAdmin;
  let web: FastifyInstance;
  let client: WebClient;

  async function start(opts: WebOptions = {}): Promise<void> {
    await web?.close();
    web = await buildWeb({
      config: { publicUrl: PUBLIC_URL, httpHost: '127.0.0.1', httpPort: 0, trustProxy: false, xmppDomain: 'example.org' },
      service: core.service,
      admin,
      clients: loadClients(),
      now: () => core.clock.now,
    }, opts);
    await web.listen({ host: '127.0.0.1', port: 0 });
    client = new WebClient(`http://127.0.0.1:${(web.server.address() as { port: number }).port}`);
  }

  async function create(req: CreateRequest, actor: Actor = { system: 'cli' }): Promise<CreatedInvite> {
    const r = await core.service.create(actor, req);
    if (!r.ok) throw new Error(r.message);
    return r;
  }
  const page = (c: CreatedInvite, suffix = '') => `${BASE}/invite/${c.token}${suffix}`;
  const form = (user: string, password = 'correct horse', confirm = password) => ({ username: user, password, password2: confirm });

  beforeEach(async () => {
    core = await makeCore({ publicUrl: PUBLIC_URL });
    admin = new FakeAdmin();
    await start({ registerLimit: { max: 100, windowMs: 60_000 } });
  });
  afterEach(async () => {
    await web.close();
    await core.cleanup();
  });

  describe('landing page', () => {
    it('an account invite: server, validity, app button, form link, QR code, clients, Link header, security headers', async () => {
      const inv = await create({ kind: 'account' });
      const res = await client.get(page(inv));
      expect(res.status).to.equal(200);
      expect(res.headers.get('link')).to.equal(`<${inv.uri}>; rel="alternate"`);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(res.headers.get('referrer-policy')).to.equal('no-referrer');
      expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).to.include("default-src 'none'").and.include("form-action 'self'").and.include("frame-ancestors 'none'").and.include('upgrade-insecure-requests');
      expect(res.headers.get('strict-transport-security')).to.match(/max-age=/);
      expect(heading(res.body)).to.equal('You are invited to join example.org');
      expect(res.body).to.include(`Valid until ${formatExpiry(inv.invite.expiresAt, core.clock.now, 'en')}.`).and.include('(in 7 days)');
      expect(res.body).to.include(`id="open-in-app" href="${inv.uri}"`);
      expect(res.body).to.include(`href="${page(inv, '/register')}"`);
      // No device in the User-Agent: both QR codes, the page's address and the invite's URI.
      expect(res.body).to.include(`src="${page(inv, '/qr.png?of=page')}"`).and.include(`src="${page(inv, '/qr.png?of=uri')}"`);
      expect(res.body).to.include(`<link rel="stylesheet" href="${BASE}/static/style.css">`);
      for (const app of ['Conversations', 'Cheogram', 'Monocles Chat', 'Monal', 'Siskin IM', 'Gajim', 'Dino', 'Psi+', 'Beagle IM', 'Movim', 'Converse.js']) {
        expect(res.body, app).to.include(`<strong>${app}</strong>`);
      }
      expect(res.body).to.include('https://f-droid.org/packages/eu.siacs.conversations/');
      expect(res.body).to.not.match(/<script/i);
    });

    it('a contact invite says who invited, and has no account form', async () => {
      const inv = await create({ kind: 'contact' }, { jid: 'alice@example.org' });
      const res = await client.get(page(inv));
      expect(res.status).to.equal(200);
      expect(heading(res.body)).to.equal('alice@example.org invited you to chat');
      expect(res.body).to.include('You need an XMPP account on any server');
      expect(res.body).to.not.include('/register');
      const reg = await client.get(page(inv, '/register'));
      expect(reg.status).to.equal(303);
      expect(reg.headers.get('location')).to.equal(page(inv));
      // A form sent anyway (with a valid CSRF token from another form) is sent to the landing page too.
      const other = await create({ kind: 'account' });
      const csrf = csrfOf((await client.get(page(other, '/register'))).body)!;
      const post = await client.post(page(inv, '/register'), { _csrf: csrf, ...form('zed') });
      expect([post.status, post.headers.get('location')]).to.deep.equal([303, page(inv)]);
      expect(admin.calls).to.equal(0);
    });

    it('an account+contact invite names the inviter and offers the form', async () => {
      const inv = await create({ kind: 'account-contact' }, { jid: 'boss@example.org' });
      const res = await client.get(page(inv));
      expect(heading(res.body)).to.equal('boss@example.org invited you to chat');
      expect(res.body).to.include('creates your account on example.org and adds boss@example.org to your contacts');
      expect(res.body).to.include('/register"');
    });

    it('a reset invite names the account and links to the new-password form', async () => {
      const inv = await create({ kind: 'reset', username: 'carol' });
      const res = await client.get(page(inv));
      expect(heading(res.body)).to.equal('Set a new password');
      expect(res.body).to.include('carol@example.org');
      expect(res.body).to.include('Choose a new password');
      expect(res.body).to.not.include('<h2>Get an app</h2>');
    });

    it('unknown tokens get 404; expired, used and revoked get 410; the pages tell nothing else', async () => {
      const unknown1 = await client.get(`${BASE}/invite/AAAAAAAAAAAAAAAAAAAAAAAA`);
      const unknown2 = await client.get(`${BASE}/invite/not-even-a-token`);
      expect([unknown1.status, unknown2.status]).to.deep.equal([404, 404]);
      expect(unknown1.body).to.equal(unknown2.body);
      expect(heading(unknown1.body)).to.equal('This invite link is not valid');

      const revoked = await create({ kind: 'account' });
      await core.service.revoke({ system: 'cli' }, revoked.invite.id);
      const used = await create({ kind: 'account' });
      const r = await core.service.reserve(used.token, { purpose: 'register', username: 'someone' });
      if (!r.ok) throw new Error(r.message);
      await core.service.commit(r.reservation, 'someone@example.org');
      const expired = await create({ kind: 'contact' }, { jid: 'alice@example.org' });
      core.clock.now = new Date(core.clock.now.getTime() + 8 * 86400_000);

      for (const [inv, title] of [[revoked, 'This invite has been cancelled'], [used, 'This invite has already been used'], [expired, 'This invite has expired']] as const) {
        for (const suffix of ['', '/register', '/qr.png']) {
          const res = await client.get(page(inv, suffix));
          expect(res.status, `${title} ${suffix}`).to.equal(410);
          expect(heading(res.body)).to.equal(title);
          expect(res.body).to.not.include('alice').and.not.include('someone').and.not.include(inv.token);
          expect(res.headers.get('link')).to.equal(null);
        }
      }
    });

    it('serves the QR code of the invite URI as a PNG that web chat clients may show', async () => {
      const inv = await create({ kind: 'account' });
      const res = await fetch(`${client.base}${page(inv, '/qr.png')}`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('image/png');
      expect(res.headers.get('cross-origin-resource-policy')).to.equal('cross-origin');
      const png = Buffer.from(await res.arrayBuffer());
      expect(png.subarray(0, 8).toString('hex')).to.equal('89504e470d0a1a0a');
      expect(png.length).to.be.greaterThan(500);
      // Chat clients ask HEAD first to learn the type and size.
      const head = await fetch(`${client.base}${page(inv, '/qr.png')}`, { method: 'HEAD' });
      expect([head.status, head.headers.get('content-type')]).to.deep.equal([200, 'image/png']);
    });

    it('answers other paths with a friendly 404, and serves its stylesheet', async () => {
      const res = await client.get('/admin');
      expect(res.status).to.equal(404);
      expect(heading(res.body)).to.equal('Page not found');
      const css = await client.get(`${BASE}/static/style.css`);
      expect([css.status, css.headers.get('content-type')]).to.deep.equal([200, 'text/css; charset=utf-8']);
    });
  });

  it('answers a malformed or over-long address with its own page and headers, echoing nothing', async () => {
    const token = 'Z'.repeat(300);
    for (const path of [`${BASE}/invite/%zz`, `${BASE}/invite/${token}`]) {
      const res = await client.get(path);
      expect(res.status, path).to.be.oneOf([400, 414]);
      expect(String(res.headers.get('content-type'))).to.match(/^text\/html/);
      expect(res.headers.get('referrer-policy')).to.equal('no-referrer');
      expect(String(res.headers.get('content-security-policy'))).to.include("default-src 'none'");
      expect(res.body).to.not.include('%zz').and.not.include(token);
    }
  });

  describe('registration form', () => {
    it('creates the account with the admin command and records the use', async () => {
      const inv = await create({ kind: 'account', roles: ['admin'] });
      const used: string[] = [];
      core.service.on('used', (e) => used.push(e.usedBy));
      const res = await client.submit(page(inv, '/register'), form('Dora', 'correct horse'));
      expect(res.status).to.equal(200);
      expect(heading(res.body)).to.equal('Your account is ready');
      expect(res.body).to.include('<span class="address" id="address">dora@example.org</span>');
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(admin.accounts.get('dora')).to.equal('correct horse');
      expect(used).to.deep.equal(['dora@example.org']);
      expect(core.service.isAdmin('dora@example.org')).to.equal(true);
      expect((await core.service.lookup(inv.token)).state).to.equal('used');
      expect((await client.get(page(inv))).status).to.equal(410);
      // The same token again, on the web (a valid CSRF token from another form) and in the core: refused.
      expect(csrfOf((await client.get(page(inv, '/register'))).body, false)).to.equal(undefined);
      const other = await create({ kind: 'account' });
      const csrf = csrfOf((await client.get(page(other, '/register'))).body)!;
      const post = await client.post(page(inv, '/register'), { _csrf: csrf, ...form('dora2') });
      expect(post.status).to.equal(410);
      expect(heading(post.body)).to.equal('This invite has already been used');
      expect(await core.service.reserve(inv.token, { purpose: 'register', username: 'dora3' })).to.include({ ok: false, code: 'used' });
      expect(admin.accounts.has('dora2')).to.equal(false);
    });

    it('says what is wrong and keeps the token: mismatch, short, simple, same as username, invalid or taken username', async () => {
      admin.accounts.set('taken', 'x');
      const inv = await create({ kind: 'account' });
      const cases: [Record<string, string>, number, RegExp][] = [
        [form('erin', 'correct horse', 'correct horsf'), 422, /The two passwords do not match\./],
        [form('erin', 'short'), 422, /too short: use at least 8 characters/],
        [form('erin', 'aaaaaaaaaaaa'), 422, /too simple/],
        [form('erin', 'eRiN'.repeat(1)), 422, /too short/],
        [form('erinerin', 'ERINERIN'), 422, /cannot be the same as the username/],
        [form('', 'correct horse'), 422, /Choose a username\./],
        [form('two words'), 422, /&quot;two words&quot; cannot be a username: see the rules above\./],
        [form('taken'), 409, /The username &quot;taken&quot; is already taken\. Choose another one\./],
        [form('Taken'), 409, /already taken/],
      ];
      for (const [fields, status, message] of cases) {
        const res = await client.submit(page(inv, '/register'), fields);
        expect(res.status, JSON.stringify(fields)).to.equal(status);
        expect(res.body, JSON.stringify(fields)).to.match(message);
        expect(res.body).to.include('<form method="post">');
        expect(res.body).to.not.include('correct horse'); // a password is never sent back
        expect((await core.service.lookup(inv.token)).state).to.equal('valid');
      }
      expect(admin.accounts.get('taken')).to.equal('x');
      // After all that, the invite still works.
      expect((await client.submit(page(inv, '/register'), form('erin'))).status).to.equal(200);
    });

    it('echoes a hostile username back harmlessly', async () => {
      const inv = await create({ kind: 'account' });
      const evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
      const res = await client.submit(page(inv, '/register'), form(evil));
      expect(res.status).to.equal(422);
      expect(res.body).to.not.include('<script>').and.not.include('<img src=x');
      expect(res.body).to.include('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"');
      expect(admin.calls).to.equal(0);
    });

    it('a bound account invite fixes the username', async () => {
      const inv = await create({ kind: 'account', username: 'frank' });
      const get = await client.get(page(inv, '/register'));
      expect(get.body).to.include('<span class="address">frank@example.org</span>').and.not.include('name="username"');
      const res = await client.submit(page(inv, '/register'), form('mallory'));
      expect(res.status).to.equal(200);
      expect([...admin.accounts.keys()]).to.deep.equal(['frank']);
    });

    it('a reset invite sets a new password on the existing account only', async () => {
      admin.accounts.set('carol', 'old password');
      const inv = await create({ kind: 'reset', username: 'carol' });
      const get = await client.get(page(inv, '/register'));
      expect(get.body).to.include('New password').and.include('carol@example.org').and.not.include('name="username"');
      const res = await client.submit(page(inv, '/register'), form('ignored', 'new password 1'));
      expect(res.status).to.equal(200);
      expect(heading(res.body)).to.equal('Your password is changed');
      expect(admin.accounts.get('carol')).to.equal('new password 1');
      expect(admin.accounts.has('ignored')).to.equal(false);

      const gone = await create({ kind: 'reset', username: 'ghost' });
      const res2 = await client.submit(page(gone, '/register'), form('', 'new password 1'));
      expect(res2.status).to.equal(409);
      expect(heading(res2.body)).to.equal('This account no longer exists');
      expect(res2.body).to.include('The account ghost@example.org no longer exists, so its password cannot be reset.');
      expect((await core.service.lookup(gone.token)).state).to.equal('valid');
    });

    it('server unreachable: 503, nothing used; other refusals are shown in the server\'s words', async () => {
      const inv = await create({ kind: 'account' });
      admin.next = { ok: false, reason: 'unavailable', message: 'timeout' };
      const res = await client.submit(page(inv, '/register'), form('gina'));
      expect(res.status).to.equal(503);
      expect(res.body).to.include('cannot be reached right now').and.not.include('timeout');
      admin.next = { ok: false, reason: 'refused', message: 'Invalid <JID>' };
      const res2 = await client.submit(page(inv, '/register'), form('gina'));
      expect(res2.status).to.equal(422);
      expect(res2.body).to.include('The server refused this: Invalid &lt;JID&gt;');
      expect((await core.service.lookup(inv.token)).state).to.equal('valid');
    });

    it('a bot the server does not allow to make accounts: 503 "not allowed", not "cannot be reached"', async () => {
      const inv = await create({ kind: 'account' });
      admin.next = { ok: false, reason: 'forbidden', message: 'forbidden: Access denied by service policy' };
      const res = await client.submit(page(inv, '/register'), form('gina'));
      expect(res.status).to.equal(503);
      expect(res.body).to.include('The invite service is not allowed to do this on the chat server.').and.not.include('cannot be reached');
      expect((await core.service.lookup(inv.token)).state).to.equal('valid');
    });

    it('two submissions at once on a single-use invite make one account', async () => {
      const inv = await create({ kind: 'account' });
      let open!: () => void;
      admin.gate = new Promise((resolve) => { open = resolve; });
      const a = new WebClient(client.base);
      const b = new WebClient(client.base);
      const [formA, formB] = [await a.get(page(inv, '/register')), await b.get(page(inv, '/register'))];
      const both = Promise.all([
        a.post(page(inv, '/register'), { _csrf: csrfOf(formA.body)!, ...form('hal') }),
        b.post(page(inv, '/register'), { _csrf: csrfOf(formB.body)!, ...form('ivy') }),
      ]);
      await new Promise((r) => setTimeout(r, 100));
      open();
      const statuses = (await both).map((r) => r.status).sort();
      // The loser is told the invite is held (409) or, when it came after the winner was done (a loaded machine), used (410).
      expect(statuses[0]).to.equal(200);
      expect(statuses[1]).to.be.oneOf([409, 410]);
      expect(admin.accounts.size).to.equal(1);
      expect(admin.calls).to.equal(1);
      expect((await core.service.lookup(inv.token)).state).to.equal('used');
    });

    it('refuses a form without its CSRF token, or with another browser\'s', async () => {
      const inv = await create({ kind: 'account' });
      const noCookie = await client.post(page(inv, '/register'), form('jack'));
      expect(noCookie.status).to.equal(403);
      expect(heading(noCookie.body)).to.equal('Please send the form again');
      expect(noCookie.body).to.include(`href="${page(inv, '/register')}"`);

      const other = new WebClient(client.base);
      const theirs = csrfOf((await other.get(page(inv, '/register'))).body)!;
      await client.get(page(inv, '/register'));
      const swapped = await client.post(page(inv, '/register'), { _csrf: theirs, ...form('jack') });
      expect(swapped.status).to.equal(403);
      expect(admin.calls).to.equal(0);
      expect((await core.service.lookup(inv.token)).state).to.equal('valid');
    });

    it('answers a malformed form with a friendly 400', async () => {
      const inv = await create({ kind: 'account' });
      const get = await client.get(page(inv, '/register'));
      const csrf = csrfOf(get.body)!;
      const res = await fetch(`${client.base}${page(inv, '/register')}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: (await cookieOf(client, page(inv, '/register'))) },
        body: `_csrf=${csrf}&username=a&username=b&password=correct+horse&password2=correct+horse`,
      });
      expect(res.status).to.equal(400);
      expect(await res.text()).to.include('This request was not understood');
      expect(admin.calls).to.equal(0);
    });

    it('limits registration attempts per address', async () => {
      await start({ registerLimit: { max: 2, windowMs: 60_000 } });
      const inv = await create({ kind: 'account' });
      expect((await client.submit(page(inv, '/register'), form('kim', 'x'))).status).to.equal(422);
      expect((await client.submit(page(inv, '/register'), form('kim', 'y'))).status).to.equal(422);
      const third = await client.submit(page(inv, '/register'), form('kim'));
      expect(third.status).to.equal(429);
      expect(heading(third.body)).to.equal('Too many attempts');
      expect(third.headers.get('retry-after')).to.match(/^\d+$/);
      expect(admin.calls).to.equal(0);
      // Reading pages is not an attempt.
      expect((await client.get(page(inv))).status).to.equal(200);
    });
  });
});

describe('web start-up warnings', () => {
  it('warns when PUBLIC_URL is https and TRUST_PROXY is not set (every visitor would share the proxy\'s address), and when it is true', async () => {
    const core = await makeCore();
    try {
      const build = (trustProxy: boolean | string[]) => captureStderr(async () => {
        const app = await buildWeb({
          config: { publicUrl: 'https://chat.example.org/join', httpHost: '127.0.0.1', httpPort: 0, trustProxy, xmppDomain: 'example.org' },
          service: core.service, admin: new FakeAdmin(), clients: loadClients(),
        });
        await app.close();
      });
      expect((await build(false)).stderr).to.match(/warn .*PUBLIC_URL is https but TRUST_PROXY is not set/);
      expect((await build(['127.0.0.1'])).stderr).to.not.include('TRUST_PROXY');
      // true believes any X-Forwarded-For: a visitor who reaches the port directly picks their address.
      expect((await build(true)).stderr).to.match(/warn .*TRUST_PROXY is true: the first X-Forwarded-For address/);
    } finally {
      await core.cleanup();
    }
  });
});

/** The cookie header a WebClient would send, after it opened `path`. */
async function cookieOf(client: WebClient, path: string): Promise<string> {
  const res = await fetch(client.base + path);
  await res.text();
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

describe('web: recommended clients file', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'invites-clients-')); });
  after(() => rm(dir, { recursive: true, force: true }));

  const write = async (name: string, data: unknown) => {
    const file = join(dir, name);
    await writeFile(file, typeof data === 'string' ? data : JSON.stringify(data));
    return file;
  };
  const client = (over: Record<string, unknown> = {}) => ({ name: 'App', description: 'An app.', homepage: 'https://app.example', links: [], opensInvites: true, ...over });

  it('ships a list for Android, iOS, desktop and web', () => {
    expect(loadClients().platforms.map((p) => p.id)).to.deep.equal(['android', 'ios', 'desktop', 'web']);
  });

  it('reads a valid file', async () => {
    const file = await write('ok.json', { platforms: [{ id: 'sailfish', name: 'Sailfish', clients: [client()] }] });
    expect(loadClients(file).platforms[0]!.clients[0]!.name).to.equal('App');
  });

  it('refuses a bad file with a message naming it and the problem', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['notjson.json', '{', /JSON/],
      ['script-url.json', { platforms: [{ id: 'x', name: 'X', clients: [client({ homepage: 'javascript:alert(1)' })] }] }, /homepage must match pattern/],
      ['data-url.json', { platforms: [{ id: 'x', name: 'X', clients: [client({ links: [{ label: 'Get', url: 'data:text/html,hi' }] })] }] }, /url must match pattern/],
      ['missing.json', { platforms: [{ id: 'x', name: 'X', clients: [{ name: 'A' }] }] }, /must have required property/],
      ['extra.json', { platforms: [], extra: 1 }, /must NOT have additional properties/],
    ];
    for (const [name, data, message] of cases) {
      const file = await write(name, data);
      let err: unknown;
      try { loadClients(file); } catch (e) { err = e; }
      expect(err, name).to.be.instanceOf(ClientListError);
      expect((err as Error).message, name).to.include(`CLIENTS_FILE ${file}: `).and.match(message);
    }
    expect(() => loadClients(join(dir, 'absent.json'))).to.throw(ClientListError, /ENOENT/);
  });
});

describe('web: password policy', () => {
  it('accepts a decent password and refuses weak or mismatched ones', () => {
    expect(passwordProblem('correct horse', 'correct horse', 'amy')).to.equal(undefined);
    expect(passwordProblem('🦄🦄🐴🐎🦓🐾🐕🐈', '🦄🦄🐴🐎🦓🐾🐕🐈')).to.equal(undefined); // 8 characters, 16 UTF-16 units
    expect(passwordProblem('', '')).to.equal('Choose a password.');
    expect(passwordProblem('1234567', '1234567')).to.match(/too short/);
    expect(passwordProblem('x'.repeat(257) + 'abc', 'x')).to.match(/too long/);
    expect(passwordProblem('abcabcabc', 'abcabcabc')).to.match(/too simple/);
    expect(passwordProblem('pass\u0000word1', 'pass\u0000word1')).to.match(/control or invisible/);
    expect(passwordProblem('AmyAmyAmy!', 'amyamyamy!', 'amyamyamy!')).to.match(/same as the username/);
    expect(passwordProblem('correct horse', 'correct hors')).to.equal('The two passwords do not match.');
  });
});

describe('bot: the QR code of a created invite', () => {
  it('is attached when PUBLIC_URL is set, and not otherwise', async () => {
    for (const publicUrl of [PUBLIC_URL, undefined]) {
      const core = await makeCore(publicUrl ? { publicUrl } : {});
      try {
        const attached: string[] = [];
        const reply = await new Dispatcher(core.service, commands).handle('alice@example.org', 'invite', (url) => attached.push(url));
        if (publicUrl) {
          expect(attached).to.have.length(1);
          expect(attached[0]).to.match(new RegExp(`^${PUBLIC_URL}/invite/[A-Za-z0-9_-]{24}/qr\\.png$`));
          expect(reply).to.include(`Or open it on the web: ${attached[0]!.replace(/\/qr\.png$/, '')}`);
          expect(tokenOf(attached[0]!)).to.equal(tokenOf(reply));
        } else {
          expect(attached).to.deep.equal([]);
        }
        // Commands that create nothing attach nothing.
        await new Dispatcher(core.service, commands).handle('alice@example.org', 'invites', (url) => attached.push(url));
        expect(attached).to.have.length(publicUrl ? 1 : 0);
      } finally {
        await core.cleanup();
      }
    }
  });
});
