// The person-facing pages by device and language (HTTP, stand-in server): the
// visitor's apps first, a page per app with its install-referrer link, the QR
// codes, every sentence from the catalogues, the dead ends said in a sentence.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import { FollowUpOutcomes, type FollowUpOutcome } from '../../src/follow-ups.js';
import { type Lang, LANGUAGES, translator } from '../../src/i18n/i18n.js';
import type { CreatedInvite, CreateRequest, UsedEvent } from '../../src/invites/service.js';
import type { Actor } from '../../src/invites/types.js';
import { ClientListError, loadClients } from '../../src/web/clients.js';
import { buildWeb } from '../../src/web/server.js';
import type { FollowUps } from '../../src/web/site.js';
import { deviceOf } from '../../src/web/visit.js';
import type { AccountAdmin, AdminResult } from '../../src/server/server.js';
import { type Core, makeCore } from '../helpers/core.js';
import { attrOf, heading, tokenOf, USER_AGENTS, WebClient } from '../helpers/web.js';

const PUBLIC_URL = 'https://chat.example.org/join';
const BASE = '/join';
const QR = { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 8 } as const;

class FakeAdmin implements AccountAdmin {
  readonly accounts = new Map<string, string>();
  async addUser(username: string, password: string): Promise<AdminResult> {
    if (this.accounts.has(username)) return { ok: false, reason: 'exists', message: 'Account already exists' };
    this.accounts.set(username, password);
    return { ok: true };
  }
  async changePassword(username: string, password: string): Promise<AdminResult> {
    if (!this.accounts.has(username)) return { ok: false, reason: 'no-such-user', message: 'User does not exist' };
    this.accounts.set(username, password);
    return { ok: true };
  }
}

/** The <h3> platform headings in page order, and those inside "All apps". */
function platformsOf(html: string): { first: string[]; all: string[] } {
  const [before, details = ''] = html.split('<details class="all-apps"');
  const h3 = (s: string) => [...s.matchAll(/<h3>([^<]*)<\/h3>/g)].map((m) => m[1]!);
  return { first: h3(before!), all: h3(details.split('</details>')[0]!) };
}

describe('web pages by device and language (HTTP, stand-in server)', () => {
  let core: Core;
  let admin: FakeAdmin;
  let web: FastifyInstance;
  let origin: string;
  let followUps: FollowUps | undefined;

  async function start(opts: { language?: Lang; pageLimit?: { max: number; windowMs: number } } = {}): Promise<void> {
    await web?.close();
    web = await buildWeb({
      config: {
        publicUrl: PUBLIC_URL, httpHost: '127.0.0.1', httpPort: 0, trustProxy: false, xmppDomain: 'example.org',
        botJid: 'invitebot@example.org', ...(opts.language ? { language: opts.language } : {}),
      },
      service: core.service,
      admin,
      clients: loadClients(),
      now: () => core.clock.now,
      followUps: { outcome: (id, jid, ms) => followUps?.outcome(id, jid, ms) ?? Promise.resolve(undefined) },
    }, { registerLimit: { max: 100, windowMs: 60_000 }, ...(opts.pageLimit ? { pageLimit: opts.pageLimit } : {}) });
    await web.listen({ host: '127.0.0.1', port: 0 });
    origin = `http://127.0.0.1:${(web.server.address() as { port: number }).port}`;
  }
  const browser = (headers: Record<string, string> = {}) => new WebClient(origin, headers);
  async function create(req: CreateRequest, actor: Actor = { system: 'cli' }): Promise<CreatedInvite> {
    const r = await core.service.create(actor, req);
    if (!r.ok) throw new Error(r.message);
    return r;
  }
  const page = (c: CreatedInvite, suffix = '') => `${BASE}/invite/${c.token}${suffix}`;
  const form = (username: string, password = 'correct horse') => ({ username, password, password2: password });

  beforeEach(async () => {
    core = await makeCore({ publicUrl: PUBLIC_URL });
    admin = new FakeAdmin();
    followUps = undefined;
    await start();
  });
  afterEach(async () => {
    await web.close();
    await core.cleanup();
  });

  it('tells the device from the User-Agent; a plain Mac (and iPadOS Safari) is a computer', () => {
    expect(deviceOf(USER_AGENTS.android)).to.equal('android');
    expect(deviceOf(USER_AGENTS.iphone)).to.equal('ios');
    expect(deviceOf('Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148')).to.equal('ios');
    expect(deviceOf(USER_AGENTS.linux)).to.equal('desktop');
    expect(deviceOf(USER_AGENTS.windows)).to.equal('desktop');
    expect(deviceOf(USER_AGENTS.mac)).to.equal('desktop');
    expect(deviceOf('curl/8.5.0')).to.equal(undefined);
    expect(deviceOf(undefined)).to.equal(undefined);
  });

  describe('landing page', () => {
    it('lists the visitor\'s apps first, the others under "All apps"; an unknown device sees every platform', async () => {
      const inv = await create({ kind: 'account' });
      const cases: [string | undefined, string[], string[]][] = [
        [USER_AGENTS.android, ['Android'], ['iPhone and iPad', 'Computer', 'Web browser']],
        [USER_AGENTS.iphone, ['iPhone and iPad'], ['Android', 'Computer', 'Web browser']],
        [USER_AGENTS.windows, ['Computer'], ['Android', 'iPhone and iPad', 'Web browser']],
        [USER_AGENTS.mac, ['Computer'], ['Android', 'iPhone and iPad', 'Web browser']],
        ['curl/8.5.0', ['Android', 'iPhone and iPad', 'Computer', 'Web browser'], []],
      ];
      for (const [ua, first, all] of cases) {
        const res = await browser(ua ? { 'user-agent': ua } : {}).get(page(inv));
        expect(res.status).to.equal(200);
        expect(platformsOf(res.body), ua).to.deep.equal({ first, all });
        expect(res.headers.get('vary')).to.include('User-Agent');
      }
    });

    it('on a computer: a QR code of the page\'s https address and one of the xmpp: URI, both labelled; on a phone: only a collapsed small one', async () => {
      const inv = await create({ kind: 'account' });
      const desk = (await browser({ 'user-agent': USER_AGENTS.linux }).get(page(inv))).body;
      expect(attrOf(desk, 'qr-page', 'src')).to.equal(page(inv, '/qr.png?of=page'));
      expect(attrOf(desk, 'qr-uri', 'src')).to.equal(page(inv, '/qr.png?of=uri'));
      expect(desk).to.include('On your phone').and.include('In an XMPP app');
      for (const ua of [USER_AGENTS.android, USER_AGENTS.iphone]) {
        const phone = (await browser({ 'user-agent': ua }).get(page(inv))).body;
        expect(attrOf(phone, 'qr-page', 'src'), ua).to.equal(undefined);
        expect(phone).to.match(/<details class="qr-small">\s*<summary>Show the invite as a QR code<\/summary>\s*<img id="qr-uri"/);
        // Below the app list, not above the fold.
        expect(phone.indexOf('qr-small')).to.be.greaterThan(phone.indexOf('<ul class="clients">'));
      }
    });

    it('the QR routes: ?of=page encodes the https landing URL, ?of=uri (and the bot\'s plain link) the xmpp: URI', async () => {
      const inv = await create({ kind: 'account-contact' }, { jid: 'boss@example.org' });
      const png = async (suffix: string) => Buffer.from(await (await fetch(origin + page(inv, suffix))).arrayBuffer());
      expect((await png('/qr.png?of=page')).equals(await QRCode.toBuffer(`${PUBLIC_URL}/invite/${inv.token}`, QR))).to.equal(true);
      const uriPng = await QRCode.toBuffer(inv.uri, QR);
      expect((await png('/qr.png?of=uri')).equals(uriPng)).to.equal(true);
      expect((await png('/qr.png')).equals(uriPng)).to.equal(true);
      expect((await png('/qr.png?of=page')).equals(uriPng)).to.equal(false);
    });

    it('admin and role invites say what the account will be', async () => {
      const adminInv = await create({ kind: 'account', roles: ['admin'] });
      expect((await browser().get(page(adminInv))).body).to.include('This account will be an administrator of example.org.');
      const member = await create({ kind: 'account', roles: ['member'] });
      expect((await browser().get(page(member))).body).to.include('This account will have these roles on example.org: member.');
      expect((await browser({ 'accept-language': 'de' }).get(page(adminInv, '/register'))).body).to.include('Dieses Konto wird Administrator von example.org.');
      const plain = await create({ kind: 'account' });
      expect((await browser().get(page(plain))).body).to.not.include('id="roles"');
    });
  });

  it('words the wait of the page limit in the visitor\'s language (the plugin\'s own "1 minute" is English)', async () => {
    await start({ pageLimit: { max: 2, windowMs: 60_000 } });
    const inv = await create({ kind: 'account' });
    const b = browser({ 'accept-language': 'de' });
    for (let i = 0; i < 2; i++) await b.get(page(inv));
    const limited = await b.get(page(inv));
    expect(limited.status).to.equal(429);
    expect(limited.body).to.match(/Bitte warte (59|60) Sekunden/).and.not.include('minute');
  });

  it('PUBLIC_URL itself (linked from the bot\'s vCard) says what the site is and how to get an invite, in the visitor\'s language', async () => {
    const en = await browser().get(`${BASE}/`);
    expect([en.status, heading(en.body)]).to.deep.equal([200, 'Invites to example.org']);
    expect(en.body).to.include('ask someone who is already on it').and.include('invitebot@example.org');
    const de = await browser({ 'accept-language': 'de' }).get(`${BASE}/`);
    expect(heading(de.body)).to.equal('Einladungen zu example.org');
  });

  describe('a page per app', () => {
    it('Conversations: install (the Play link carries the invite as install referrer), then open the invite in the app', async () => {
      const inv = await create({ kind: 'account' });
      const res = await browser({ 'user-agent': USER_AGENTS.android }).get(page(inv, '/app/conversations'));
      expect(res.status).to.equal(200);
      expect(heading(res.body)).to.equal('Set up Conversations');
      const play = new URL(attrOf(res.body, 'referrer-link', 'href')!);
      expect(`${play.origin}${play.pathname}`).to.equal('https://play.google.com/store/apps/details');
      expect(play.searchParams.get('id')).to.equal('eu.siacs.conversations');
      expect(play.searchParams.get('referrer')).to.equal(inv.uri);
      expect(attrOf(res.body, 'referrer-link', 'href')).to.include(`&referrer=${encodeURIComponent(inv.uri)}`);
      expect(res.body).to.include('https://f-droid.org/packages/eu.siacs.conversations/"');
      expect(attrOf(res.body, 'open-in-app', 'href')).to.equal(inv.uri);
      expect(res.body).to.include('Open the invite in Conversations').and.include('finds this invite by itself');
      // If the app does not take the link after all: the web form, with the app remembered.
      expect(res.body).to.include(`id="fallback"`).and.include(`href="${page(inv, '/register')}?app=conversations"`);
      // From the landing page's list too.
      const landing = (await browser({ 'user-agent': USER_AGENTS.android }).get(page(inv))).body;
      expect(landing).to.include(`href="${page(inv, '/app/conversations')}"`).and.include(`&amp;referrer=${encodeURIComponent(inv.uri)}`);
    });

    it('a reset invite has no app pages: its token never goes to a store as a referrer', async () => {
      const inv = await create({ kind: 'reset', username: 'carol' });
      const res = await browser({ 'user-agent': USER_AGENTS.android }).get(page(inv, '/app/conversations'));
      expect(res.status).to.equal(303);
      expect(res.headers.get('location')).to.equal(page(inv, '/register'));
      expect(res.body).to.not.include('play.google.com');
    });

    it('iOS apps: no referrer, so "come back to this page after installing"', async () => {
      const inv = await create({ kind: 'account' });
      const res = await browser({ 'user-agent': USER_AGENTS.iphone }).get(page(inv, '/app/monal'));
      expect(attrOf(res.body, 'referrer-link', 'href')).to.equal(undefined);
      expect(res.body).to.include('id="come-back"').and.include('come back to this page');
      expect(attrOf(res.body, 'open-in-app', 'href')).to.equal(inv.uri);
      expect(res.body).to.include('href="https://apps.apple.com/app/id317711500"');
    });

    it('apps that do not open invites: install, create the account here on the web, log in; the chosen app is named on the success page', async () => {
      const inv = await create({ kind: 'account' });
      const b = browser({ 'user-agent': USER_AGENTS.linux });
      const res = await b.get(page(inv, '/app/gajim'));
      expect(res.body).to.include('id="step-install"').and.include('id="step-register"').and.include('id="step-login"');
      expect(res.body).to.not.include('id="open-in-app"');
      expect(attrOf(res.body, 'register-link', 'href')).to.equal(`${page(inv, '/register')}?app=gajim`);
      const formPage = await b.get(`${page(inv, '/register')}?app=gajim`);
      expect(formPage.body).to.include('<input type="hidden" name="app" value="gajim">');
      const done = await b.submit(`${page(inv, '/register')}?app=gajim`, { ...form('gail'), app: 'gajim' });
      expect(done.status).to.equal(200);
      expect(done.body).to.include('Open Gajim (install it first').and.include('href="https://gajim.org/download/"');
      expect(done.body).to.include('Send the message &quot;invite&quot; to invitebot@example.org');
      // A POST's page: a ?lang= link would lead to the used invite's page, so none.
      expect(done.body).to.not.include('?lang=');
    });

    it('a contact invite and an app that does not open invites: add the inviter yourself; an unknown app is a 404', async () => {
      const inv = await create({ kind: 'contact' }, { jid: 'alice@example.org' });
      const res = await browser().get(page(inv, '/app/dino'));
      expect(res.body).to.include('id="step-contact"').and.include('Add alice@example.org').and.not.include('/register');
      const none = await browser().get(page(inv, '/app/no-such-app'));
      expect([none.status, heading(none.body)]).to.deep.equal([404, 'Page not found']);
      const used = await create({ kind: 'account' });
      await core.service.revoke({ system: 'cli' }, used.invite.id);
      expect((await browser().get(page(used, '/app/dino'))).status).to.equal(410);
    });
  });

  describe('languages', () => {
    it('Accept-Language chooses; ?lang= wins over the cookie it sets, the cookie over the header; <html lang> follows', async () => {
      const inv = await create({ kind: 'account' });
      const de = await browser({ 'accept-language': 'de-AT,de;q=0.9,en;q=0.5' }).get(page(inv));
      expect(de.body).to.include('<html lang="de">');
      expect(heading(de.body)).to.equal('Du bist zu example.org eingeladen');
      expect(de.body).to.include('href="?lang=fr"').and.include('<strong lang="de" aria-current="true">Deutsch</strong>');
      // The app descriptions too, where the list gives them in the language (else its English one).
      expect(de.body).to.include('Einfach und zuverlässig, mit Verschlüsselung von Anfang an.');
      const deDesktop = await browser({ 'accept-language': 'de', 'user-agent': USER_AGENTS.linux }).get(page(inv, '/app/gajim'));
      expect(deDesktop.body).to.include('>Herunterladen</a>').and.include('Eine Chat-App mit vielen Funktionen für Windows und Linux.');

      const b = browser({ 'accept-language': 'de' });
      const fr = await b.get(`${page(inv)}?lang=fr`);
      expect(heading(fr.body)).to.equal('Vous êtes invité à rejoindre example.org');
      const cookie = fr.headers.getSetCookie().find((c) => c.startsWith('lang='))!;
      expect(cookie).to.match(/^lang=fr;/).and.match(/Path=\/join(;|$)/).and.match(/SameSite=Lax/i);
      expect(heading((await b.get(page(inv, '/register'))).body)).to.equal('Créez votre compte sur example.org');
      expect(heading((await b.get(`${page(inv)}?lang=es`)).body)).to.equal('Te han invitado a unirte a example.org');
      expect(heading((await b.get(page(inv))).body)).to.equal('Te han invitado a unirte a example.org');
      // An unknown ?lang= is ignored.
      expect(heading((await browser({ 'accept-language': 'de' }).get(`${page(inv)}?lang=xx`)).body)).to.equal('Du bist zu example.org eingeladen');
    });

    it('DEFAULT_LANGUAGE is the default when the visitor asks for none of ours', async () => {
      await start({ language: 'es' });
      const inv = await create({ kind: 'account' });
      expect((await browser({ 'accept-language': 'pt-BR' }).get(page(inv))).body).to.include('<html lang="es">');
      expect((await browser({ 'accept-language': 'pt-BR,en;q=0.5' }).get(page(inv))).body).to.include('<html lang="en">');
    });

    it('every page in each language: state pages, 404, form errors, the 429 and 403 pages', async () => {
      const inv = await create({ kind: 'account' });
      for (const lang of LANGUAGES) {
        const t = translator(lang);
        const b = browser({ 'accept-language': lang });
        const unknown = await b.get(`${BASE}/invite/AAAAAAAAAAAAAAAAAAAAAAAA`);
        expect([unknown.status, heading(unknown.body)], lang).to.deep.equal([404, t('web.state.unknown.title')]);
        expect(heading((await b.get('/nothing-here')).body)).to.equal(t('web.error.notFound.title'));
        const short = await b.submit(page(inv, '/register'), form('erin', 'short'));
        expect(short.status).to.equal(422);
        expect(short.body).to.include(t('web.password.short', { min: 8 }));
        const csrf = await b.post(page(inv, '/register'), { ...form('erin') });
        expect(csrf.status).to.equal(403);
        expect(heading(csrf.body)).to.equal(t('web.error.csrf.title'));
        if (lang !== 'en') expect(heading(unknown.body)).to.not.equal(translator('en')('web.state.unknown.title'));
      }
      const spent = await create({ kind: 'account' });
      await core.service.revoke({ system: 'cli' }, spent.invite.id);
      expect(heading((await browser({ 'accept-language': 'fr' }).get(page(spent))).body)).to.equal('Cette invitation a été annulée');
      expect(heading((await browser({ 'accept-language': 'es' }).get(page(spent))).body)).to.equal('Esta invitación se ha cancelado');
    });

    it('the validity date in the page\'s language', async () => {
      const inv = await create({ kind: 'account' });
      expect((await browser({ 'accept-language': 'de' }).get(page(inv))).body).to.include('Gültig bis 28. November 2026').and.include('(in 7 Tagen)');
      expect((await browser({ 'accept-language': 'fr' }).get(page(inv))).body).to.include('Valable jusqu&#39;au 28 novembre 2026');
    });
  });

  describe('no silent dead ends', () => {
    it('a bound invite whose name was taken meanwhile: the landing page and the form say so', async () => {
      const inv = await create({ kind: 'account', username: 'frank' });
      core.service.server = { account: async (jid) => ({ exists: jid === 'frank@example.org', admin: false }) };
      for (const suffix of ['', '/register', '/app/conversations']) {
        const res = await browser().get(page(inv, suffix));
        expect(res.status, suffix).to.equal(409);
        expect(heading(res.body)).to.equal('This account already exists');
        expect(res.body).to.include('The account frank@example.org already exists, so this invite, made for that name only, cannot be used.');
      }
      expect(heading((await browser({ 'accept-language': 'de' }).get(page(inv))).body)).to.equal('Dieses Konto gibt es schon');
      // The server cannot be asked: the page as usual (the form's add-user answer says it then).
      core.service.server = { account: async () => undefined };
      expect((await browser().get(page(inv))).status).to.equal(200);
      admin.accounts.set('frank', 'x');
      const post = await browser().submit(page(inv, '/register'), form(''));
      expect([post.status, heading(post.body)]).to.deep.equal([409, 'This account already exists']);
      expect((await core.service.lookup(inv.token)).state).to.equal('valid');
    });

    it('a reset invite for an account that no longer exists says so', async () => {
      const inv = await create({ kind: 'reset', username: 'ghost' });
      core.service.server = { account: async () => ({ exists: false, admin: false }) };
      const res = await browser().get(page(inv));
      expect([res.status, heading(res.body)]).to.deep.equal([409, 'This account no longer exists']);
      expect(res.body).to.include('The account ghost@example.org no longer exists, so its password cannot be reset.');
    });
  });

  describe('the success page of an account+contact invite', () => {
    const outcome = (o: FollowUpOutcome | undefined, delay = 0): FollowUps => ({
      outcome: (_id, _jid, waitMs) => new Promise((resolve) => setTimeout(() => resolve(delay > waitMs ? undefined : o), Math.min(delay, waitMs))),
    });

    for (const [name, given, sentence] of [
      ['made', outcome({ contactsMade: true, granted: true }), 'You and boss@example.org are now contacts.'],
      ['failed', outcome({ contactsMade: false, granted: true }), 'boss@example.org could not be added to your contacts automatically'],
      ['not known in time', outcome(undefined), 'boss@example.org will be added to your contacts shortly'],
    ] as const) {
      it(`says the contacts were made only when they were: ${name}`, async () => {
        followUps = given;
        const inv = await create({ kind: 'account-contact' }, { jid: 'boss@example.org' });
        const res = await browser().submit(page(inv, '/register'), form('newbie'));
        expect(res.status).to.equal(200);
        expect(res.body).to.include(sentence);
        if (name !== 'made') expect(res.body).to.not.include('are now contacts');
      });
    }

    it('an account invite says nothing of contacts; a reset names no bot', async () => {
      followUps = outcome({ contactsMade: true, granted: true });
      const inv = await create({ kind: 'account' });
      const res = await browser().submit(page(inv, '/register'), form('solo'));
      expect(res.body).to.not.include('id="contacts"');
      expect(res.body).to.include('invitebot@example.org');
      // The invite is spent: a store link that handed it to the app would start it again.
      expect(res.body).to.include('https://play.google.com/store/apps/details?id=eu.siacs.conversations"').and.not.include('referrer=');
      expect(res.body).to.not.include(tokenOf(inv.uri));
      admin.accounts.set('carol', 'old');
      const reset = await create({ kind: 'reset', username: 'carol' });
      const done = await browser().submit(page(reset, '/register'), form('', 'new password 1'));
      expect(heading(done.body)).to.equal('Your password is changed');
      expect(done.body).to.not.include('id="bot"');
    });
  });
});

describe('web: follow-up outcomes for the success page', () => {
  const used = (id: string, usedBy: string): UsedEvent => ({ invite: { id } as UsedEvent['invite'], usedBy, purpose: 'register', rolesApplied: false });

  it('gives the outcome of a recorded follow-up, or undefined when unknown or late', async () => {
    const o = new FollowUpOutcomes();
    o.record(used('a', 'x@example.org'), Promise.resolve({ contactsMade: true, granted: true }));
    expect(await o.outcome('a', 'x@example.org', 100)).to.deep.equal({ contactsMade: true, granted: true });
    expect(await o.outcome('a', 'y@example.org', 100)).to.equal(undefined);
    o.record(used('b', 'x@example.org'), new Promise(() => {}));
    const t0 = Date.now();
    expect(await o.outcome('b', 'x@example.org', 50)).to.equal(undefined);
    expect(Date.now() - t0).to.be.below(1000);
    o.record(used('c', 'x@example.org'), Promise.reject(new Error('boom')));
    expect(await o.outcome('c', 'x@example.org', 50)).to.equal(undefined);
    o.record(used('d', 'x@example.org'), Promise.resolve(undefined));
    expect(await o.outcome('d', 'x@example.org', 50)).to.equal(undefined);
  });
});

describe('web: the client list\'s app ids and referrer links', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'invites-clients-')); });
  after(() => rm(dir, { recursive: true, force: true }));
  const write = async (name: string, data: unknown) => {
    const file = join(dir, name);
    await writeFile(file, JSON.stringify(data));
    return file;
  };
  const app = (over: Record<string, unknown> = {}) => ({ name: 'Some App', description: 'An app.', homepage: 'https://app.example', links: [], opensInvites: true, ...over });

  it('ships an id for every app, unique, and Play referrer links for the Android apps that read it', () => {
    const list = loadClients();
    const ids = list.platforms.flatMap((p) => p.clients.map((c) => c.id));
    expect(new Set(ids).size).to.equal(ids.length);
    expect(ids).to.include.members(['conversations', 'cheogram', 'monocles', 'monal', 'siskin', 'gajim', 'dino']);
    const android = list.platforms.find((p) => p.id === 'android')!;
    for (const c of android.clients) expect(c.links.find((l) => l.label === 'Google Play')?.referrer, c.name).to.equal(true);
    const others = list.platforms.filter((p) => p.id !== 'android').flatMap((p) => p.clients.flatMap((c) => c.links));
    expect(others.some((l) => l.referrer)).to.equal(false);
  });

  it('an app without an id gets one from its name (older files still load)', async () => {
    const list = loadClients(await write('no-id.json', { platforms: [{ id: 'x', name: 'X', clients: [app({ name: 'Siskin IM' })] }] }));
    expect(list.platforms[0]!.clients[0]!.id).to.equal('siskin-im');
  });

  it('refuses two apps with one id, a bad id, and a referrer link that is not a Play app page', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['dup.json', { platforms: [{ id: 'a', name: 'A', clients: [app({ id: 'same' })] }, { id: 'b', name: 'B', clients: [app({ id: 'same', name: 'Other' })] }] },
        /\/platforms\/1\/clients\/0 has the app id "same" of \/platforms\/0\/clients\/0/],
      ['dup-names.json', { platforms: [{ id: 'a', name: 'A', clients: [app(), app()] }] }, /app id "some-app"/],
      ['bad-id.json', { platforms: [{ id: 'a', name: 'A', clients: [app({ id: 'Not OK' })] }] }, /id must match pattern/],
      ['ref.json', { platforms: [{ id: 'a', name: 'A', clients: [app({ links: [{ label: 'F-Droid', url: 'https://f-droid.org/x', referrer: true }] })] }] },
        /links\/0 has "referrer": true but is not a Google Play app page/],
    ];
    for (const [name, data, message] of cases) {
      const file = await write(name, data);
      expect(() => loadClients(file), name).to.throw(ClientListError, message);
    }
  });
});
