// The landing page as each device and language sees it, in headless Chromium
// (Debian's, through playwright-core) against the running service on real
// Prosody: the visitor's apps first, the QR code kind per device, the per-app
// page and its Play referrer link, the language switch; and screenshots of
// every page at 390 and 1280 px in test-artifacts/screenshots/ (paths printed).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type Lang, translator } from '../../src/i18n/i18n.js';
import { freePorts } from '../../src/server/free-port.js';
import { DOMAIN, serverName, type Stack, startStack } from '../helpers/stack.js';
import { USER_AGENTS } from '../helpers/web.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');
const WIDTHS = [390, 1280] as const;
const DEVICES = { android: USER_AGENTS.android, iphone: USER_AGENTS.iphone, desktop: USER_AGENTS.linux } as const;
type DeviceName = keyof typeof DEVICES;
const FIRST_PLATFORM: Record<DeviceName, string> = { android: 'android', iphone: 'ios', desktop: 'desktop' };

describe(`web pages per device and language (headless Chromium, real ${serverName()})`, function () {
  this.timeout(120_000);
  let stack: Stack;
  let browser: Browser;
  let base: string;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    mkdirSync(SHOTS, { recursive: true });
    const [port] = await freePorts(1);
    base = `http://127.0.0.1:${port}`;
    stack = await startStack({ PUBLIC_URL: base, HTTP_PORT: String(port) }, { app: { web: { registerLimit: { max: 1000, windowMs: 60_000 } } } });
    await stack.user(`boss@${DOMAIN}`); // the inviter of the account+contact invites: an account, so the contacts can be made
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await stack?.stop();
  });
  afterEach(() => {
    expect(problems.splice(0), 'script dialogs, CSP violations, failed loads').to.deep.equal([]);
  });

  async function open(path: string, device: DeviceName, lang: Lang, width: number): Promise<Page> {
    const context = await browser.newContext({
      userAgent: DEVICES[device],
      locale: lang,
      viewport: { width, height: width < 600 ? 844 : 900 },
      isMobile: device !== 'desktop' && width < 600,
      hasTouch: device !== 'desktop',
    });
    contexts.push(context);
    const page = await context.newPage();
    page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); void d.dismiss(); });
    page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`); });
    // A subresource aborted by the page moving on (a click, a submit before the icon came in on a loaded
    // machine) is the browser's doing; the server's failures are the responses >= 400 below, or other errors.
    page.on('requestfailed', (r) => {
      const aborted = r.failure()?.errorText === 'net::ERR_ABORTED' && r.resourceType() !== 'document';
      if (!r.url().startsWith('xmpp:') && !aborted) problems.push(`failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`);
    });
    page.on('response', (r) => { if (r.request().resourceType() !== 'document' && r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`); });
    await page.goto(base + path);
    return page;
  }

  async function shot(page: Page, name: string): Promise<void> {
    // Every image loaded first (the QR codes), then the whole page.
    await page.waitForFunction(() => [...document.images].every((i) => i.complete));
    const file = join(SHOTS, `${name}.png`);
    // Chromium under load sometimes answers "Unable to capture screenshot" once: a second try, not a second opinion.
    await page.screenshot({ path: file, fullPage: true }).catch(async () => {
      await new Promise((r) => setTimeout(r, 500));
      await page.screenshot({ path: file, fullPage: true });
    });
    console.log(`screenshot: ${file}`);
  }

  async function invite(kind: 'account' | 'account-contact' = 'account'): Promise<{ path: string; uri: string; url: string }> {
    const r = kind === 'account'
      ? await stack.app.service.create({ jid: `boss@${DOMAIN}` }, { kind: 'account' })
      : await stack.app.service.create({ jid: `boss@${DOMAIN}` }, { kind: 'account-contact' });
    if (!r.ok) throw new Error(r.message);
    return { path: r.landingUrl!.slice(base.length), uri: r.uri, url: r.landingUrl! };
  }

  /** The images on the page that are drawn (not inside a closed <details>), with their size. */
  const visibleImages = (page: Page) => page.$$eval('img', (imgs) => imgs.map((i) => {
    const r = i.getBoundingClientRect();
    return { id: i.id, src: i.getAttribute('src') ?? '', width: r.width, height: r.height, top: r.top };
  }).filter((i, n) => i.width > 0 && i.height > 0 && imgs[n]!.checkVisibility()));

  for (const device of Object.keys(DEVICES) as DeviceName[]) {
    for (const lang of ['en', 'de'] as Lang[]) {
      it(`landing page on ${device} in ${lang}: its apps first, the QR code it needs, no sideways scrolling`, async () => {
        const t = translator(lang);
        const inv = await invite();
        for (const width of WIDTHS) {
          const page = await open(inv.path, device, lang, width);
          expect(await page.getAttribute('html', 'lang')).to.equal(lang);
          expect(await page.locator('h1').textContent()).to.equal(t('web.invite.account.title', { domain: DOMAIN }));
          const platform = FIRST_PLATFORM[device];
          const expected = t(`web.platform.${platform}`);
          expect(await page.locator('main > h3').first().textContent()).to.equal(expected);
          expect(await page.locator('details#all-apps').getAttribute('open')).to.equal(null);
          expect(await page.locator('details#all-apps summary').textContent()).to.equal(t('web.apps.all'));
          const images = await visibleImages(page);
          if (device === 'desktop') {
            const qr = images.find((i) => i.id === 'qr-page');
            expect(qr, 'the QR code of the page').to.exist;
            expect(qr!.src).to.match(/\/qr\.png\?of=page$/);
            expect(qr!.width).to.be.at.least(150);
            expect(images.find((i) => i.id === 'qr-uri')?.src).to.match(/\/qr\.png\?of=uri$/);
            expect(await page.locator('#qr-page').evaluate((img: HTMLImageElement) => img.naturalWidth)).to.be.greaterThan(100);
          } else {
            // No QR code drawn at all until asked for (a collapsed <details> at the bottom).
            expect(images, JSON.stringify(images)).to.deep.equal([]);
            await page.locator('details.qr-small summary').click();
            const small = (await visibleImages(page)).find((i) => i.id === 'qr-uri');
            expect(small, 'the small QR code, once opened').to.exist;
            expect(small!.width).to.be.at.most(170);
            await page.locator('details.qr-small summary').click();
          }
          const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
          expect(scroll, `sideways scrolling at ${width}px`).to.be.at.most(inner);
          await shot(page, `landing-${device}-${lang}-${width}`);
        }
      });
    }
  }

  it('landing page in French and Spanish, through the language switch, remembered in a cookie', async () => {
    const inv = await invite();
    for (const width of WIDTHS) {
      const page = await open(inv.path, 'desktop', 'en', width);
      await Promise.all([page.waitForLoadState('load'), page.locator('nav.languages a[hreflang=fr]').click()]);
      expect(await page.getAttribute('html', 'lang')).to.equal('fr');
      expect(await page.locator('h1').textContent()).to.equal(translator('fr')('web.invite.account.title', { domain: DOMAIN }));
      const cookie = (await page.context().cookies()).find((c) => c.name === 'lang');
      expect([cookie?.value, cookie?.path, cookie?.sameSite]).to.deep.equal(['fr', '/', 'Lax']);
      await shot(page, `landing-desktop-fr-${width}`);
      // The next page, without ?lang=, stays French.
      await page.goto(`${base}${inv.path}/register`);
      expect(await page.getAttribute('html', 'lang')).to.equal('fr');
      await page.goto(`${base}${inv.path}?lang=es`);
      expect(await page.locator('h1').textContent()).to.equal(translator('es')('web.invite.account.title', { domain: DOMAIN }));
      await shot(page, `landing-desktop-es-${width}`);
    }
  });

  it('per-app pages: Conversations\' Play link carries the invite as install referrer; Monal says to come back; Gajim goes through the web form', async () => {
    const inv = await invite('account-contact');
    for (const width of WIDTHS) {
      const android = await open(`${inv.path}/app/conversations`, 'android', 'en', width);
      const href = await android.locator('a#referrer-link').getAttribute('href');
      const play = new URL(href!);
      expect(play.hostname).to.equal('play.google.com');
      expect(play.searchParams.get('id')).to.equal('eu.siacs.conversations');
      expect(play.searchParams.get('referrer')).to.equal(inv.uri);
      expect(decodeURIComponent(/[?&]referrer=([^&]*)/.exec(href!)![1]!)).to.equal(inv.uri);
      expect(await android.locator('a#open-in-app').getAttribute('href')).to.equal(inv.uri);
      expect(await android.locator('a#open-in-app').textContent()).to.equal('Open the invite in Conversations');
      await shot(android, `app-conversations-android-en-${width}`);

      const iphone = await open(`${inv.path}/app/monal`, 'iphone', 'de', width);
      expect(await iphone.locator('a#referrer-link').count()).to.equal(0);
      expect(await iphone.locator('#come-back').textContent()).to.equal(translator('de')('web.app.comeBackIos'));
      await shot(iphone, `app-monal-iphone-de-${width}`);

      const desktop = await open(`${inv.path}/app/gajim`, 'desktop', 'en', width);
      expect(await desktop.locator('a#open-in-app').count()).to.equal(0);
      expect(await desktop.locator('a#register-link').getAttribute('href')).to.match(/\/register\?app=gajim$/);
      expect(await desktop.locator('ol.steps > li').count()).to.equal(3);
      await shot(desktop, `app-gajim-desktop-en-${width}`);
    }
  });

  it('the way through the web form (German, on a computer): app page → form → success naming the app, the contacts made and the bot', async () => {
    const t = translator('de');
    for (const width of WIDTHS) {
      const inv = await invite('account-contact');
      const page = await open(`${inv.path}/app/gajim`, 'desktop', 'de', width);
      await Promise.all([page.waitForURL(/\/register\?app=gajim$/), page.locator('a#register-link').click()]);
      await shot(page, `register-desktop-de-${width}`);
      const name = `screen${width}`;
      await page.fill('#username', name);
      await page.fill('#password', 'short');
      await page.fill('#password2', 'short');
      // The browser's own minlength check would stop the form: send it as a script-less browser without it would.
      await page.locator('#password').evaluate((i: HTMLInputElement) => i.removeAttribute('minlength'));
      await Promise.all([page.waitForLoadState('load'), page.locator('button[type=submit]').click()]);
      expect(await page.locator('.field-error').textContent()).to.equal(t('web.password.short', { min: 8 }));
      await shot(page, `register-error-desktop-de-${width}`);
      await page.fill('#password', 'browser-pass-1');
      await page.fill('#password2', 'browser-pass-1');
      await Promise.all([page.waitForLoadState('load'), page.locator('button[type=submit]').click()]);
      await page.locator('#address').waitFor();
      expect(await page.locator('h1').textContent()).to.equal(t('web.success.title'));
      expect(await page.locator('#address').textContent()).to.equal(`${name}@${DOMAIN}`);
      expect(await page.locator('#contacts').textContent()).to.equal(t('web.success.contactsMade', { inviter: `boss@${DOMAIN}` }));
      expect(await page.locator('ol.login-steps').textContent()).to.include('Gajim');
      expect(await page.locator('#bot').textContent()).to.include(stack.env.BOT_JID);
      await shot(page, `success-desktop-de-${width}`);
    }
  });

  it('a state page and the success page on a phone (English)', async () => {
    for (const width of WIDTHS) {
      const gone = await open('/invite/AAAAAAAAAAAAAAAAAAAAAAAA', 'android', 'en', width);
      expect(await gone.locator('h1').textContent()).to.equal('This invite link is not valid');
      await shot(gone, `state-unknown-android-en-${width}`);
      const inv = await invite();
      const page = await open(`${inv.path}/register`, 'iphone', 'en', width);
      await page.fill('#username', `phone${width}`);
      await page.fill('#password', 'browser-pass-1');
      await page.fill('#password2', 'browser-pass-1');
      await Promise.all([page.waitForLoadState('load'), page.locator('button[type=submit]').click()]);
      await page.locator('#address').waitFor();
      expect(await page.locator('main > h3').first().textContent()).to.equal('iPhone and iPad');
      await shot(page, `success-iphone-en-${width}`);
    }
  });
});
