// Finding 4 of the security review: the registration limit (10 POSTs per 10
// minutes per address) counted before the CSRF and token checks, and the page
// limit (300 a minute) counted /static/*: 10 cookie-less POSTs to a made-up
// token, or 305 fetches of the stylesheet, locked the next visitor out with 429;
// behind a proxy without TRUST_PROXY that visitor is everyone. Real service,
// real Prosody, real HTTP.
import { expect } from 'chai';
import { freePorts } from '../../src/server/free-port.js';
import { botInviteUri } from '../helpers/bot-reply.js';
import { tokenOf } from '../helpers/adhoc.js';
import { BOT, DOMAIN, type Stack, startStack } from '../helpers/stack.js';
import { heading, WebClient } from '../helpers/web.js';
import type { User } from '../helpers/xmpp-user.js';

const PASSWORD = 'correct horse battery';
const form = (username: string, password = PASSWORD) => ({ username, password, password2: password });

async function webStack(env: Record<string, string> = {}): Promise<{ stack: Stack; base: string; boss: User }> {
  const [port] = await freePorts(1);
  const base = `http://127.0.0.1:${port}`;
  // The service's own limits (no test override): 10 attempts per 10 minutes, 300 pages a minute.
  const stack = await startStack({ PUBLIC_URL: base, HTTP_PORT: String(port), ...env });
  return { stack, base, boss: await stack.user(`boss@${DOMAIN}`) };
}

describe('abuse: one address cannot lock others out of the web pages (real service, real HTTP)', function () {
  this.timeout(60_000);
  let s: Awaited<ReturnType<typeof webStack>>;
  before(async () => { s = await webStack(); });
  after(async () => { await s?.stack.stop(); });

  it('POSTs with a made-up token or without the CSRF cookie are no attempts: the next visitor still registers', async () => {
    const token = tokenOf(await botInviteUri(s.boss, BOT, 'invite account'));
    for (let i = 0; i < 12; i++) {
      const bogus = await fetch(`${s.base}/invite/${'x'.repeat(24)}/register`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=a&password=b&password2=b',
      });
      expect(bogus.status).to.be.oneOf([403, 404]);
      const noCookie = await fetch(`${s.base}/invite/${token}/register`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=a&password=b&password2=b',
      });
      expect(noCookie.status).to.equal(403);
    }
    const visitor = new WebClient(s.base);
    const page = await visitor.submit(`/invite/${token}/register`, form('visitor'));
    expect(page.status, heading(page.body)).to.equal(200);
    expect(await s.stack.server.userExists('visitor')).to.equal(true);
  });

  it('fetching the stylesheet 400 times in a burst does not rate-limit the pages', async () => {
    const token = tokenOf(await botInviteUri(s.boss, BOT, 'invite account'));
    const burst = await Promise.all(Array.from({ length: 400 }, () => fetch(`${s.base}/static/style.css`).then((r) => r.status)));
    expect(burst.every((st) => st === 200)).to.equal(true);
    expect((await fetch(`${s.base}/invite/${token}`)).status).to.equal(200);
  });

  it('real attempts are still limited: the 11th in 10 minutes is refused with Retry-After', async () => {
    const token = tokenOf(await botInviteUri(s.boss, BOT, 'invite account'));
    const greedy = new WebClient(s.base);
    // Passwords too short: each an attempt the form refuses, none makes an account.
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await greedy.submit(`/invite/${token}/register`, form('greedy', 'short'))).status);
    // One attempt from this address was the first test's visitor (same address: no proxy here).
    expect(statuses).to.deep.equal([...Array(9).fill(422), 429, 429]);
    const refused = await greedy.submit(`/invite/${token}/register`, form('greedy'));
    expect(refused.status).to.equal(429);
    expect(refused.headers.get('retry-after')).to.match(/^\d+$/);
    expect(heading(refused.body)).to.equal('Too many attempts');
  });
});

describe('abuse: behind a trusted reverse proxy, limits count each visitor (real service, real HTTP)', function () {
  this.timeout(60_000);
  let s: Awaited<ReturnType<typeof webStack>>;
  before(async () => { s = await webStack({ TRUST_PROXY: '127.0.0.1' }); });
  after(async () => { await s?.stack.stop(); });

  it('one visitor\'s attempts (X-Forwarded-For from the proxy) do not count against another\'s', async () => {
    const token = tokenOf(await botInviteUri(s.boss, BOT, 'invite account'));
    // Documentation addresses (RFC 5737), as the proxy would name its visitors; nothing is sent there.
    const greedy = new WebClient(s.base, { 'x-forwarded-for': '198.51.100.7' });
    for (let i = 0; i < 10; i++) expect((await greedy.submit(`/invite/${token}/register`, form('g', 'short'))).status).to.equal(422);
    expect((await greedy.submit(`/invite/${token}/register`, form('g', 'short'))).status).to.equal(429);
    const other = new WebClient(s.base, { 'x-forwarded-for': '203.0.113.9' });
    const page = await other.submit(`/invite/${token}/register`, form('behindproxy'));
    expect(page.status, heading(page.body)).to.equal(200);
  });
});
