// The follow-up relay on a real PostgreSQL (a private server started here): a
// follow-up handed over by an instance that does not lead is run by the leader once
// it takes them; one that fails is kept and run at a later try, never dropped.
import { expect } from 'chai';
import pg from 'pg';
import type { UsedEvent } from '../../src/invites/service.js';
import { LocalPostgres } from '../../src/postgres/local-postgres.js';
import { FollowUpRelay } from '../../src/store/postgres/follow-up-relay.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { makeInvite } from '../contract/store-contract.js';
import { eventually } from '../helpers/eventually.js';

describe('follow-up relay (real PostgreSQL)', function () {
  this.timeout(60_000);
  let server: LocalPostgres;
  let url: string;
  const relays: FollowUpRelay[] = [];

  before(async () => {
    server = await LocalPostgres.start();
    url = await server.createDatabase();
    await (await PostgresStore.open(url)).close(); // its migrations make the table
  });
  after(async () => {
    for (const r of relays) await r.close();
    await server?.stop();
  });

  const event = (n: number): UsedEvent => ({ invite: makeInvite(n), usedBy: `u${n}@example.org`, purpose: 'register', rolesApplied: false });
  const rows = async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return Number((await c.query('SELECT count(*) AS n FROM follow_ups')).rows[0].n);
    } finally {
      await c.end();
    }
  };

  it('hands over, runs in order once taken, keeps a failed one for the next try', async () => {
    const follower = new FollowUpRelay(url);
    const leader = new FollowUpRelay(url);
    relays.push(follower, leader);
    for (const n of [1, 2, 3]) await follower.hand(event(n));
    expect(await rows()).to.equal(3);
    const ran: string[] = [];
    let failFor = 'u2@example.org';
    await leader.startTaking(async (e) => {
      const usedBy = 'joined' in e ? e.joined.jid : e.usedBy;
      if (usedBy === failFor) throw new Error('the component is not online yet');
      ran.push(usedBy);
    });
    expect(ran, 'the first ran; the failed one and those after it wait').to.deep.equal(['u1@example.org']);
    expect(await rows()).to.equal(2);
    failFor = '';
    await leader.drain();
    expect(ran).to.deep.equal(['u1@example.org', 'u2@example.org', 'u3@example.org']);
    expect(await rows()).to.equal(0);
    // Handed over while the leader takes them: NOTIFY brings it at once.
    await follower.hand(event(4));
    expect(await eventually(async () => ran.length, (n) => n === 4, 5000)).to.equal(4);
    await leader.stopTaking();
    await follower.hand(event(5));
    await new Promise((r) => setTimeout(r, 300));
    expect(ran, 'no more once stopped').to.have.length(4);
    expect(await rows()).to.equal(1);
  });
});
