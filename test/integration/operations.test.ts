// /metrics and /health of the running service (real Prosody, bridge, component and
// bot): the gauges follow the real connections, the counters the real invites, and
// /health turns degraded when the server goes away.
import { expect } from 'chai';
import { freePorts } from '../../src/server/free-port.js';
import { eventually } from '../helpers/eventually.js';
import { registerWith } from '../helpers/ibr.js';
import { type Family, parseOpenMetrics, sampleValue } from '../helpers/openmetrics.js';
import { BOT, DOMAIN, PASSWORD, serverName, type Stack, startStack } from '../helpers/stack.js';
import type { User } from '../helpers/xmpp-user.js';

describe(`operations: /metrics and /health of the running service (real ${serverName()})`, function () {
  this.timeout(60_000);
  let stack: Stack;
  let base: string;
  let boss: User;

  before(async () => {
    const [port] = await freePorts(1);
    base = `http://127.0.0.1:${port}`;
    stack = await startStack({ PUBLIC_URL: base, HTTP_PORT: String(port), BOT_RATE_LIMIT: '1000/1' });
    boss = await stack.user(`boss@${DOMAIN}`);
  });
  after(() => stack?.stop());

  const scrape = async (): Promise<Map<string, Family>> => {
    const res = await fetch(`${base}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(res.status).to.equal(200);
    return parseOpenMetrics(await res.text());
  };
  const health = async () => {
    const res = await fetch(`${base}/health`);
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  };

  it('connected: /health ok, the gauges at 1, the store\'s figures', async () => {
    expect(await health()).to.deep.equal({ status: 200, body: { status: 'ok', component: true, bot: true, store: true, leader: true } });
    const f = await scrape();
    expect(sampleValue(f, 'invites_bot_connected')).to.equal(1);
    expect(sampleValue(f, 'invites_component_connected')).to.equal(1);
    expect(sampleValue(f, 'invites_leader')).to.equal(1);
    expect(sampleValue(f, 'invites_store_open_seconds')).to.be.a('number').and.at.least(0).and.below(30);
    expect(sampleValue(f, 'invites_store_invites')).to.be.a('number');
    // Through a proxy (it adds X-Forwarded-For), not shown.
    expect((await fetch(`${base}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status).to.equal(403);
  });

  it('an invite made by the bot, used in-band, then refused: the counters move', async () => {
    const before = await scrape();
    const at = (f: Map<string, Family>, name: string, labels?: Record<string, string>) => sampleValue(f, name, labels) ?? 0;
    const reply = await boss.ask(BOT, 'invite account');
    const token = /preauth=([A-Za-z0-9_-]+)/.exec(reply)?.[1];
    expect(token, reply).to.be.a('string');
    await boss.next(BOT, 5000); // the QR code message
    await registerWith(stack.server.service, DOMAIN, { token, username: 'metered', password: PASSWORD });
    await boss.next(BOT, 5000); // "metered joined"
    expect(await stack.app.service.reserve(token!, { purpose: 'register', username: 'metered2' })).to.include({ ok: false, code: 'used' });

    const after = await scrape();
    expect(at(after, 'invites_created_total', { kind: 'account' }) - at(before, 'invites_created_total', { kind: 'account' })).to.equal(1);
    expect(at(after, 'invites_used_total', { purpose: 'register' }) - at(before, 'invites_used_total', { purpose: 'register' })).to.equal(1);
    expect(at(after, 'invites_registrations_total') - at(before, 'invites_registrations_total')).to.equal(1);
    expect(at(after, 'invites_refused_total', { reason: 'used' }) - at(before, 'invites_refused_total', { reason: 'used' })).to.equal(1);
  });

  it('the server gone: /health still 200 (the store is open) but degraded, the gauges at 0', async () => {
    await stack.server.stop();
    const h = await eventually(health, (x) => x.body.bot === false && x.body.component === false, 10_000);
    expect(h).to.deep.equal({ status: 200, body: { status: 'degraded', component: false, bot: false, store: true, leader: true } });
    const f = await scrape();
    expect([sampleValue(f, 'invites_bot_connected'), sampleValue(f, 'invites_component_connected')]).to.deep.equal([0, 0]);
  });
});
