// Follow-ups of invites used on an instance that does not lead (a web registration
// there): only the leader has the bot to tell the inviter and the component to make
// contacts and give roles. The instance writes the event to a table and NOTIFYs;
// the leader takes rows when told, when elected, and every half minute, and deletes
// each one in the transaction that locked it only after its follow-up ran: a leader
// killed meanwhile leaves the row to the next one (a follow-up may then run twice,
// never not at all). The table is made by the store's migrations.
import pg from 'pg';
import type { JoinedEvent } from '../../groups/types.js';
import type { UsedEvent } from '../../invites/service.js';

/** What the relay carries: an invite's use, or a group join (its contacts, bookmark, room invitation). */
export type RelayedEvent = UsedEvent | { joined: JoinedEvent };
import { log } from '../../log.js';

const CHANNEL = 'xmpp_invites_follow_ups';
const BATCH = 20;
const SWEEP_MS = 30_000;

export class FollowUpRelay {
  private readonly pool: pg.Pool;
  private listener?: pg.Client;
  private timer?: NodeJS.Timeout;
  private draining?: Promise<number>;
  private again = false;
  private run?: (e: RelayedEvent) => Promise<void>;

  constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'xmpp-invites follow-ups' });
    this.pool.on('error', (e) => log.warn(`follow-up relay: database connection: ${e.message}`));
  }

  /** On an instance that does not lead: leave the follow-up to the leader. Resolves once it is stored. */
  async hand(e: RelayedEvent): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO follow_ups (event) VALUES ($1)', [JSON.stringify(e)]);
      await client.query(`NOTIFY ${CHANNEL}`);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * On the leader: run every stored follow-up, now, whenever one is handed over, and
   * every half minute, until stopTaking(). `run` rejects to keep one for the next try.
   */
  async startTaking(run: (e: RelayedEvent) => Promise<void>): Promise<void> {
    this.run = run;
    // The sweep first: it finds them even when the listener cannot be had.
    this.timer = setInterval(() => void this.drain(), SWEEP_MS).unref();
    const listener = new pg.Client({ connectionString: (this.pool.options as { connectionString: string }).connectionString });
    listener.on('notification', () => void this.drain());
    listener.on('error', (e) => log.warn(`follow-up relay: listener: ${e.message}`));
    try {
      await listener.connect();
      await listener.query(`LISTEN ${CHANNEL}`);
      this.listener = listener;
    } catch (e) {
      await listener.end().catch(() => {});
      log.warn(`follow-up relay: cannot listen (${(e as Error).message}); the half-minute sweep takes them`);
    }
    await this.drain();
  }

  /** Stop taking; a batch under way ends after its current follow-up (waited for at most 2 s). */
  async stopTaking(): Promise<void> {
    this.run = undefined;
    clearInterval(this.timer);
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => {});
    await Promise.race([this.draining?.catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  /** Take and run stored follow-ups until none is left; returns how many ran. */
  drain(): Promise<number> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = this.takeAll().finally(() => { this.draining = undefined; });
    return this.draining;
  }

  private async takeAll(): Promise<number> {
    let n = 0;
    do {
      this.again = false;
      for (let got = BATCH; got === BATCH && this.run;) {
        got = await this.takeBatch().catch((e: Error) => {
          log.warn(`follow-up relay: ${e.message}`);
          return 0;
        });
        n += Math.max(got, 0);
        if (got < 0) return n; // one could not be done now: the rest wait for the next sweep
      }
    } while (this.again && this.run);
    return n;
  }

  /** Run and delete up to a batch; the count done, or -1 when one had to be kept (done ones are deleted). */
  private async takeBatch(): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // SKIP LOCKED: a leader that has not noticed yet that it was deposed takes other rows, not these.
      const rows = (await client.query<{ id: string; event: RelayedEvent }>(
        'SELECT id, event FROM follow_ups ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED', [BATCH])).rows;
      let done = 0;
      for (const row of rows) {
        const run = this.run; // stopTaking() (deposed): no more from here
        if (!run) break;
        const ok = await run(row.event).then(() => true, (e: Error) => {
          const what = 'joined' in row.event ? `${row.event.joined.jid} joining group ${row.event.joined.group.name}` : `invite ${row.event.invite?.id}`;
          log.warn(`follow-up of ${what}: kept for the next try: ${e.message}`);
          return false;
        });
        if (!ok) {
          await client.query('COMMIT');
          return -1;
        }
        await client.query('DELETE FROM follow_ups WHERE id = $1', [row.id]);
        done++;
      }
      await client.query('COMMIT');
      return done === rows.length ? done : -1;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.stopTaking();
    await this.pool.end().catch(() => {});
  }
}
