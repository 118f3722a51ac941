// /metrics and /health over real HTTP from the real web server (buildWeb): who may
// read the metrics, in which format, and the health answers. The invite core is a
// bare event source here (these routes read nothing else of it); the running
// service's wiring is in test/integration/operations.test.ts.
import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import { expect } from 'chai';
import type { FastifyInstance } from 'fastify';
import { ConfigError, parseConfig } from '../../src/config.js';
import type { InviteService, ServiceEvents } from '../../src/invites/service.js';
import type { Invite } from '../../src/invites/types.js';
import { createMetrics } from '../../src/metrics.js';
import { loadClients } from '../../src/web/clients.js';
import { buildWeb, type WebOptions } from '../../src/web/server.js';
import type { AccountAdmin } from '../../src/server/server.js';
import { parseOpenMetrics, sampleValue } from '../helpers/openmetrics.js';

const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const TOKEN = 'metrics-token-0123456789abcdef';
/** An address of this machine that is not loopback, to be a visitor from elsewhere (none: those cases are skipped). */
const OUTSIDE = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

describe('/metrics and /health (HTTP)', () => {
  let web: FastifyInstance | undefined;
  let events: EventEmitter<ServiceEvents>;
  let state: { storeOpen: boolean; bot: boolean };
  let base: string;

  async function start(config: { metricsToken?: string; trustProxy?: boolean } = {}, opts: WebOptions = {}, host = '127.0.0.1'): Promise<void> {
    await web?.close();
    const metrics = createMetrics(events, {
      store: () => ({ invites: 5, openSeconds: 0.5 }),
      storeOpen: () => state.storeOpen,
      botOnline: () => state.bot,
      componentOnline: () => true,
    });
    web = await buildWeb({
      config: { publicUrl: 'http://chat.example.org/join', httpHost: host, httpPort: 0, trustProxy: config.trustProxy ?? false, xmppDomain: 'example.org', metricsToken: config.metricsToken },
      service: events as unknown as InviteService,
      admin: {} as AccountAdmin,
      clients: loadClients(),
      metrics,
    }, opts);
    await web.listen({ host, port: 0 });
    base = `http://${host}:${(web.server.address() as { port: number }).port}`;
  }

  const get = (path: string, headers: Record<string, string> = {}) => fetch(base + path, { headers });

  beforeEach(async () => {
    events = new EventEmitter<ServiceEvents>();
    state = { storeOpen: true, bot: true };
    await start();
  });
  afterEach(async () => {
    await web?.close();
    web = undefined;
  });

  it('from this machine, not through a proxy: OpenMetrics when asked for, the text format otherwise', async () => {
    events.emit('created', { invite: { kind: 'account' } as Invite });
    const om = await get('/metrics', { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' });
    expect(om.status).to.equal(200);
    expect(om.headers.get('content-type')).to.equal(OPENMETRICS);
    expect(om.headers.get('cache-control')).to.equal('no-store');
    const f = parseOpenMetrics(await om.text());
    expect(sampleValue(f, 'invites_created_total', { kind: 'account' })).to.equal(1);
    expect(sampleValue(f, 'invites_store_invites')).to.equal(5);

    const text = await get('/metrics');
    expect(text.status).to.equal(200);
    expect(text.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
    expect(await text.text()).to.match(/^invites_created_total\{kind="account"\} 1$/m);
  });

  it('at the root, not under PUBLIC_URL\'s path', async () => {
    expect((await get('/join/metrics')).status).to.equal(404);
    expect((await get('/join/health')).status).to.equal(404);
  });

  it('refused when relayed by a proxy, even one that is trusted and names a loopback visitor', async () => {
    const relayed: Record<string, string>[] = [{ 'x-forwarded-for': '203.0.113.9' }, { 'x-forwarded-for': '127.0.0.1' }, { forwarded: 'for=127.0.0.1' }, { 'x-real-ip': '127.0.0.1' }];
    for (const header of relayed) {
      const res = await get('/metrics', header);
      expect(res.status, JSON.stringify(header)).to.equal(403);
      expect(await res.text()).not.to.include('invites_');
    }
    await start({ trustProxy: true });
    expect((await get('/metrics', { 'x-forwarded-for': '127.0.0.1' })).status).to.equal(403);
  });

  (OUTSIDE ? it : it.skip)('refused to a visitor from another address', async () => {
    await start({}, {}, OUTSIDE);
    const res = await get('/metrics');
    expect(res.status).to.equal(403);
    expect(await res.text()).not.to.include('invites_');
    // /health answers everyone: a load balancer probes from elsewhere.
    expect((await get('/health')).status).to.equal(200);
  });

  it('with METRICS_TOKEN: only with that bearer token, then from anywhere (a proxy too)', async () => {
    await start({ metricsToken: TOKEN });
    for (const auth of [undefined, 'Bearer wrong-token-0123456789abcd', `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN, 'Bearer ']) {
      const res = await get('/metrics', auth === undefined ? {} : { authorization: auth });
      expect(res.status, String(auth)).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.equal('Bearer realm="metrics"');
      expect(await res.text()).not.to.include('invites_');
    }
    const ok = await get('/metrics', { authorization: `Bearer ${TOKEN}`, 'x-forwarded-for': '203.0.113.9', accept: 'application/openmetrics-text' });
    expect(ok.status).to.equal(200);
    expect(sampleValue(parseOpenMetrics(await ok.text()), 'invites_leader')).to.equal(1);
  });

  it('/health: 200 with the parts\' state, degraded while the bot is away, 503 once the store is closed', async () => {
    let res = await get('/health');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    expect(await res.json()).to.deep.equal({ status: 'ok', component: true, bot: true, store: true, leader: true });
    state.bot = false;
    res = await get('/health');
    expect([res.status, (await res.json()).status]).to.deep.equal([200, 'degraded']);
    state.storeOpen = false;
    res = await get('/health', { 'x-forwarded-for': '203.0.113.9' });
    expect(res.status).to.equal(503);
    expect(await res.json()).to.deep.include({ status: 'degraded', store: false });
  });

  it('neither counts toward the pages\' rate limit, which still holds for the pages', async () => {
    await start({}, { pageLimit: { max: 2, windowMs: 60_000 } });
    for (let i = 0; i < 5; i++) {
      expect((await get('/health')).status).to.equal(200);
      expect((await get('/metrics')).status).to.equal(200);
    }
    // A form post without its CSRF field: refused before the invite core is asked, but counted.
    const post = () => fetch(`${base}/join/invite/AAAAAAAAAAAAAAAAAAAAAAAA/register`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=a' });
    const pages = [];
    for (let i = 0; i < 3; i++) pages.push((await post()).status);
    expect(pages).to.deep.equal([403, 403, 429]);
  });

  it('METRICS_TOKEN: read as given; a short or unprintable one stops start-up without the value in the message', () => {
    const env = { XMPP_SERVICE: 'xmpp://127.0.0.1:5222', BOT_JID: 'bot@example.org', BOT_PASSWORD: 'x' };
    expect(parseConfig(env).metricsToken).to.equal(undefined);
    expect(parseConfig({ ...env, METRICS_TOKEN: TOKEN }).metricsToken).to.equal(TOKEN);
    for (const bad of ['short-secret', `${TOKEN} with spaces`, `${TOKEN}\u00e9`]) {
      let err: unknown;
      try { parseConfig({ ...env, METRICS_TOKEN: bad }); } catch (e) { err = e; }
      expect(err, bad).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.match(/^METRICS_TOKEN: /).and.not.include(bad);
    }
  });

  it('not served when the web server is given no metrics', async () => {
    await web!.close();
    web = await buildWeb({
      config: { publicUrl: 'http://chat.example.org/join', httpHost: '127.0.0.1', httpPort: 0, trustProxy: false, xmppDomain: 'example.org' },
      service: events as unknown as InviteService, admin: {} as AccountAdmin, clients: loadClients(),
    });
    await web.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(web.server.address() as { port: number }).port}`;
    expect((await get('/metrics')).status).to.equal(404);
    expect((await get('/health')).status).to.equal(404);
  });
});
