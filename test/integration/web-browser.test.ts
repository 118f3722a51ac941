// A person's path through the web pages, in headless Chromium (Debian's
// package, driven by playwright-core): landing page, QR code, app button,
// registration form, success page, then an XMPP login with the new account.
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { type Browser, chromium, type Page } from 'playwright-core';
import { freePorts } from '../../src/server/free-port.js';
import { DOMAIN, serverName, type Stack, startStack } from '../helpers/stack.js';
import { connectUser } from '../helpers/xmpp-user.js';

const CHROMIUM = '/usr/bin/chromium';

describe(`web pages in a browser (headless Chromium, real ${serverName()})`, function () {
  this.timeout(60_000);
  let stack: Stack;
  let browser: Browser;
  let base: string;
  /** Anything the page did that it must not: script dialogs, CSP violations, failed loads. */
  const problems: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    const [port] = await freePorts(1);
    base = `http://127.0.0.1:${port}`;
    stack = await startStack({ PUBLIC_URL: base, HTTP_PORT: String(port) });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function open(path: string, viewport = { width: 1200, height: 900 }): Promise<Page> {
    const page = await browser.newPage({ viewport });
    page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); void d.dismiss(); });
    // A CSP violation is reported on the console; a page's own status (422 for a form error) is not a problem.
    page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`); });
    // A subresource aborted by the page moving on is the browser's doing (see web-devices.test.ts); the server's failures are responses.
    page.on('requestfailed', (r) => {
      if (r.failure()?.errorText !== 'net::ERR_ABORTED' || r.resourceType() === 'document') problems.push(`failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`);
    });
    page.on('response', (r) => { if (r.request().resourceType() !== 'document' && r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`); });
    await page.goto(base + path);
    return page;
  }

  async function accountInvite(): Promise<string> {
    const r = await stack.app.service.create({ jid: `boss@${DOMAIN}` }, { kind: 'account' });
    if (!r.ok) throw new Error(r.message);
    return r.landingUrl!.slice(base.length);
  }

  it('landing page → QR code and app button → form → success → XMPP login', async () => {
    const page = await open(await accountInvite());
    expect(await page.locator('h1').textContent()).to.equal(`You are invited to join ${DOMAIN}`);

    // Headless Chromium on Linux is a computer: the QR code of this page's address, for a phone's camera.
    const qr = page.locator('img#qr-page');
    await qr.waitFor();
    await page.waitForFunction(() => (document.querySelector('img#qr-page') as HTMLImageElement | null)?.complete === true);
    expect(await qr.evaluate((img: HTMLImageElement) => img.naturalWidth)).to.be.greaterThan(100);
    expect(await qr.getAttribute('src')).to.match(/\/qr\.png\?of=page$/);

    const app = page.locator('a#open-in-app');
    expect(await app.getAttribute('href')).to.match(new RegExp(`^xmpp:${DOMAIN}\\?register;preauth=[A-Za-z0-9_-]{24}$`));
    // The computer's apps first, every other one under "All apps".
    expect(await page.locator('ul.clients li').count()).to.be.greaterThan(8);
    expect(await page.locator('h3').first().textContent()).to.equal('Computer');

    await page.locator('a#register-link').click();
    await page.waitForURL(/\/register$/);
    await page.fill('#username', 'Browser.User');
    await page.fill('#password', 'browser-pass-1');
    await page.fill('#password2', 'browser-pass-1');
    await Promise.all([page.waitForLoadState('load'), page.locator('button[type=submit]').click()]);
    await page.locator('#address').waitFor();
    expect(await page.locator('h1').textContent()).to.equal('Your account is ready');
    expect(await page.locator('#address').textContent()).to.equal(`browser.user@${DOMAIN}`);
    await page.close();

    const user = await connectUser(stack.server.service, `browser.user@${DOMAIN}`, 'browser-pass-1');
    stack.users.push(user);
    expect(String(user.xmpp.jid)).to.match(/^browser\.user@localhost\//);
    expect(problems).to.deep.equal([]);
  });

  it('a hostile username comes back as typed, inert, with the error next to it', async () => {
    const page = await open(`${await accountInvite()}/register`);
    const evil = '"><img src=x onerror=alert(1)><script>alert(2)</script>';
    await page.fill('#username', evil);
    await page.fill('#password', 'browser-pass-1');
    await page.fill('#password2', 'browser-pass-1');
    await Promise.all([page.waitForLoadState('load'), page.locator('button[type=submit]').click()]);
    await page.locator('.field-error').waitFor();
    expect(await page.locator('.field-error').textContent()).to.match(/cannot be a username/);
    expect(await page.inputValue('#username')).to.equal(evil);
    expect(await page.locator('main img').count()).to.equal(0);
    expect(await page.locator('script').count()).to.equal(0);
    expect(problems).to.deep.equal([]);
    await page.close();
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const page = await open(await accountInvite(), { width: 360, height: 740 });
    const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    expect(scroll).to.be.at.most(inner);
    await page.close();
  });
});
