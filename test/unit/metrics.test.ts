// The metrics module on its own: counters moved by the core's events (emitted here
// as the service emits them), gauges read from their sources at each scrape, both text
// formats, and the health verdict. The HTTP side is in metrics-web.test.ts.
import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import type { ServiceEvents } from '../../src/invites/service.js';
import type { Invite, InviteKind } from '../../src/invites/types.js';
import { createMetrics, type MetricsSources, type StoreFigures, wantsOpenMetrics } from '../../src/metrics.js';
import { parseOpenMetrics, sampleValue } from '../helpers/openmetrics.js';

const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
/** What Prometheus 2.x and 3.x send when scraping. */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** The metrics read only an invite's kind. */
const invite = (kind: InviteKind) => ({ id: 'abcdefgh', kind }) as Invite;

describe('metrics', () => {
  let events: EventEmitter<ServiceEvents>;
  let state: { bot: boolean; component: boolean; storeOpen: boolean | Promise<boolean>; figures: StoreFigures };
  let sources: MetricsSources;

  beforeEach(() => {
    events = new EventEmitter<ServiceEvents>();
    state = { bot: true, component: true, storeOpen: true, figures: { invites: 42, openSeconds: 0.25 } };
    sources = {
      store: () => state.figures,
      storeOpen: () => state.storeOpen,
      botOnline: () => state.bot,
      componentOnline: () => state.component,
    };
  });

  const scrape = async (m: ReturnType<typeof createMetrics>) => {
    const { contentType, body } = await m.render(PROMETHEUS_ACCEPT);
    expect(contentType).to.equal(OPENMETRICS);
    return parseOpenMetrics(body);
  };

  it('counters move on created, used and refused events', async () => {
    const m = createMetrics(events, sources);
    let f = await scrape(m);
    // Known label values are there from the start, at 0.
    expect(sampleValue(f, 'invites_created_total', { kind: 'account' })).to.equal(0);
    expect(sampleValue(f, 'invites_used_total', { purpose: 'roster' })).to.equal(0);
    expect(sampleValue(f, 'invites_registrations_total')).to.equal(0);

    events.emit('created', { invite: invite('account') });
    events.emit('created', { invite: invite('account') });
    events.emit('created', { invite: invite('contact') });
    events.emit('used', { invite: invite('account'), usedBy: 'new@example.org', purpose: 'register', rolesApplied: false });
    events.emit('used', { invite: invite('reset'), usedBy: 'old@example.org', purpose: 'register', rolesApplied: false });
    events.emit('used', { invite: invite('contact'), usedBy: 'friend@example.org', purpose: 'roster', rolesApplied: false });
    events.emit('refused', { code: 'expired', purpose: 'register' });
    events.emit('refused', { code: 'expired', purpose: 'roster' });
    events.emit('refused', { code: 'unknown', purpose: 'register' });

    f = await scrape(m);
    expect(sampleValue(f, 'invites_created_total', { kind: 'account' })).to.equal(2);
    expect(sampleValue(f, 'invites_created_total', { kind: 'contact' })).to.equal(1);
    expect(sampleValue(f, 'invites_created_total', { kind: 'reset' })).to.equal(0);
    expect(sampleValue(f, 'invites_used_total', { purpose: 'register' })).to.equal(2);
    expect(sampleValue(f, 'invites_used_total', { purpose: 'roster' })).to.equal(1);
    expect(sampleValue(f, 'invites_refused_total', { reason: 'expired' })).to.equal(2);
    expect(sampleValue(f, 'invites_refused_total', { reason: 'unknown' })).to.equal(1);
    // A password reset makes no account.
    expect(sampleValue(f, 'invites_registrations_total')).to.equal(1);
    expect(f.get('invites_created')?.type).to.equal('counter');
  });

  it('the OpenMetrics text parses, ends with # EOF, and every family is named invites_*', async () => {
    const m = createMetrics(events, sources);
    events.emit('refused', { code: 'revoked', purpose: 'register' });
    const { body } = await m.render(OPENMETRICS);
    expect(body.endsWith('\n# EOF\n')).to.equal(true);
    const f = parseOpenMetrics(body);
    expect([...f.keys()].sort()).to.deep.equal([
      'invites_bot_connected', 'invites_component_connected', 'invites_created', 'invites_leader',
      'invites_refused', 'invites_registrations', 'invites_store_invites', 'invites_store_last_compaction_seconds',
      'invites_store_open_seconds', 'invites_used',
    ]);
    for (const fam of f.values()) expect(fam.help, 'HELP').to.be.a('string').and.not.equal('');
  });

  it('the format check itself refuses what OpenMetrics does not allow', () => {
    const ok = '# TYPE a counter\na_total 1\n# TYPE b gauge\nb{x="1"} NaN\n# EOF\n';
    expect(parseOpenMetrics(ok).get('b')!.samples[0]!.labels).to.deep.equal({ x: '1' });
    for (const bad of [
      ok.replace('# EOF\n', ''), // no end marker
      ok.replace('a_total', 'a'), // a counter's sample without _total
      ok.replace('# TYPE a counter', '# TYPE a_total counter'),
      ok.replace(' 1\n', ' one\n'),
      ok.replace('{x="1"}', '{x=1}'),
      ok.replace('\n# TYPE b', '\n\n# TYPE b'), // an empty line
      ok.replace('# EOF\n', 'a_total 2\n# EOF\n'), // a family that comes back
      'c 1\n# EOF\n', // a sample of no declared family
    ]) expect(() => parseOpenMetrics(bad), bad).to.throw();
  });

  it('the text format, for a request that does not ask for OpenMetrics', async () => {
    const m = createMetrics(events, sources);
    await m.render(OPENMETRICS); // the other format first: its renaming must not leak into this one
    events.emit('created', { invite: invite('account') });
    for (const accept of [undefined, 'text/plain', '*/*', 'application/openmetrics-text;q=0']) {
      const { contentType, body } = await m.render(accept);
      expect(contentType, String(accept)).to.equal('text/plain; version=0.0.4; charset=utf-8');
      expect(body).to.match(/^# TYPE invites_created_total counter$/m);
      expect(body).to.match(/^invites_created_total\{kind="account"\} 1$/m);
      expect(body).not.to.include('# EOF');
    }
  });

  it('reads Accept as a list with weights', () => {
    expect(wantsOpenMetrics(PROMETHEUS_ACCEPT)).to.equal(true);
    expect(wantsOpenMetrics('text/plain;q=0.9, Application/OpenMetrics-Text; version=1.0.0')).to.equal(true);
    expect(wantsOpenMetrics('application/openmetrics-text;q=0, text/plain')).to.equal(false);
    expect(wantsOpenMetrics('text/plain')).to.equal(false);
    expect(wantsOpenMetrics(undefined)).to.equal(false);
  });

  it('gauges follow their sources at each scrape; the leader gauge follows setLeader', async () => {
    const m = createMetrics(events, sources);
    let f = await scrape(m);
    expect(sampleValue(f, 'invites_bot_connected')).to.equal(1);
    expect(sampleValue(f, 'invites_component_connected')).to.equal(1);
    expect(sampleValue(f, 'invites_leader')).to.equal(1);
    expect(sampleValue(f, 'invites_store_invites')).to.equal(42);
    expect(sampleValue(f, 'invites_store_open_seconds')).to.equal(0.25);
    // No compaction yet: NaN rather than a made-up 0.
    expect(sampleValue(f, 'invites_store_last_compaction_seconds')).to.be.NaN;

    state.bot = false;
    state.component = false;
    state.figures = { invites: 7, openSeconds: 0.25, lastCompactionSeconds: 1.5 };
    m.setLeader(false);
    f = await scrape(m);
    expect(sampleValue(f, 'invites_bot_connected')).to.equal(0);
    expect(sampleValue(f, 'invites_component_connected')).to.equal(0);
    expect(sampleValue(f, 'invites_leader')).to.equal(0);
    expect(sampleValue(f, 'invites_store_invites')).to.equal(7);
    expect(sampleValue(f, 'invites_store_last_compaction_seconds')).to.equal(1.5);
  });

  it('a store that cannot be read keeps the last figures; an async store is awaited', async () => {
    let fail = false;
    const m = createMetrics(events, { ...sources, store: async () => { if (fail) throw new Error('down'); return state.figures; } });
    expect(sampleValue(await scrape(m), 'invites_store_invites')).to.equal(42);
    fail = true;
    expect(sampleValue(await scrape(m), 'invites_store_invites')).to.equal(42);
  });

  describe('health', () => {
    it('ok when the store is open and the bot and the component are connected', async () => {
      expect(await createMetrics(events, sources).health()).to.deep.equal({
        httpStatus: 200, body: { status: 'ok', component: true, bot: true, store: true, leader: true },
      });
    });

    it('degraded, still 200, when the bot or the component is not connected', async () => {
      const m = createMetrics(events, sources);
      state.component = false;
      expect(await m.health()).to.deep.include({ httpStatus: 200 }).and.nested.include({ 'body.status': 'degraded', 'body.component': false });
      state.component = true;
      state.bot = false;
      expect(await m.health()).to.nested.include({ httpStatus: 200, 'body.status': 'degraded', 'body.bot': false });
    });

    it('no component configured is not a fault', async () => {
      const m = createMetrics(events, { ...sources, componentOnline: undefined });
      expect((await m.health()).body).to.deep.include({ status: 'ok', component: false });
    });

    it('a follower (not the leader) is not degraded for holding neither the bot nor the component', async () => {
      const m = createMetrics(events, sources);
      state.bot = false;
      state.component = false;
      m.setLeader(false);
      expect((await m.health()).body).to.deep.include({ status: 'ok', leader: false });
    });

    it('503 when the store is closed, or does not answer in time', async () => {
      state.storeOpen = false;
      expect(await createMetrics(events, sources).health()).to.nested.include({ httpStatus: 503, 'body.status': 'degraded', 'body.store': false });
      state.storeOpen = new Promise<boolean>(() => {}); // never answers
      const started = Date.now();
      expect(await createMetrics(events, sources, { storeWaitMs: 50 }).health()).to.nested.include({ httpStatus: 503, 'body.store': false });
      expect(Date.now() - started).to.be.below(1000);
      state.storeOpen = Promise.resolve(true);
      expect((await createMetrics(events, sources).health()).httpStatus).to.equal(200);
    });
  });
});
