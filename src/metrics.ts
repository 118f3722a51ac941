// What the process tells its operator: counters fed by the invite core's events,
// gauges read at scrape time (connections, the store), and the health verdict.
// Served by the web server at /metrics and /health (see docs/operations.md).
import type { EventEmitter } from 'node:events';
import { Counter, Gauge, type OpenMetricsContentType, Registry, type RegistryContentType } from 'prom-client';
import type { ServiceEvents } from './invites/service.js';
import type { InviteKind } from './invites/types.js';

/** The store's figures; the shape of the store's `stats()`. */
export interface StoreFigures {
  /** Invites in the live store (pending, and ended ones not archived yet). */
  invites: number;
  /** The last start's opening of the store (lowdb: lock, snapshot, journal replay), seconds. */
  openSeconds: number;
  /** The last compaction's duration, seconds; absent before the first (and on stores without one). */
  lastCompactionSeconds?: number;
}

export interface MetricsSources {
  store: () => StoreFigures | Promise<StoreFigures>;
  /** The store is open and answering. */
  storeOpen: () => boolean | Promise<boolean>;
  botOnline: () => boolean;
  /** Absent when no component is configured. */
  componentOnline?: () => boolean;
}

export interface Health {
  status: 'ok' | 'degraded';
  component: boolean;
  bot: boolean;
  store: boolean;
  /** This instance holds the component and the bot (a follower does not, and is not degraded for it). */
  leader: boolean;
}

export interface Metrics {
  /** The text for a request's Accept header, and its Content-Type. */
  render(accept: string | undefined): Promise<{ contentType: string; body: string }>;
  health(): Promise<{ httpStatus: 200 | 503; body: Health }>;
  /** Set by leader election (several instances on one database); 1 until then. */
  setLeader(leader: boolean): void;
}

/** A store that has not answered /health's question by then counts as not there. */
const STORE_WAIT_MS = 2_000;

const KINDS: InviteKind[] = ['account', 'contact', 'account-contact', 'reset'];
const PURPOSES = ['register', 'roster'] as const;

/** Does this Accept header ask for OpenMetrics (and not with q=0)? */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return type === 'application/openmetrics-text' && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/** One set of instruments in one registry. */
function instruments(registry: Registry<RegistryContentType>, read: { figures: () => StoreFigures | undefined; sources: MetricsSources; leader: () => boolean }) {
  const registers = [registry];
  const flag = (name: string, help: string, value: () => boolean) =>
    new Gauge({ name, help, registers, collect() { this.set(value() ? 1 : 0); } });
  const figure = (name: string, help: string, value: (f: StoreFigures) => number | undefined) =>
    new Gauge({
      name, help, registers,
      // NaN, not a made-up 0, for a figure the store has not got (no compaction yet).
      collect() { const f = read.figures(); this.set(f ? value(f) ?? Number.NaN : Number.NaN); },
    });
  const created = new Counter({ name: 'invites_created_total', help: 'Invites created, by kind', labelNames: ['kind'], registers });
  const used = new Counter({ name: 'invites_used_total', help: 'Invite uses committed, by purpose (register includes password resets)', labelNames: ['purpose'], registers });
  const refused = new Counter({ name: 'invites_refused_total', help: 'Token uses refused, by reason code', labelNames: ['reason'], registers });
  const registrations = new Counter({ name: 'invites_registrations_total', help: 'Accounts created with an invite (password resets not counted)', registers });
  // Every label value known in advance is shown from the start, so rate() sees the first one.
  for (const kind of KINDS) created.inc({ kind }, 0);
  for (const purpose of PURPOSES) used.inc({ purpose }, 0);
  flag('invites_component_connected', 'The component is connected to the server (0 also when none is configured)', () => read.sources.componentOnline?.() ?? false);
  flag('invites_bot_connected', 'The bot is connected to the server', read.sources.botOnline);
  flag('invites_leader', 'This instance holds the component and the bot', read.leader);
  figure('invites_store_invites', 'Invites in the live store (pending, and ended ones not archived yet)', (f) => f.invites);
  figure('invites_store_open_seconds', 'Time the last start took to open the store (journal replay included)', (f) => f.openSeconds);
  figure('invites_store_last_compaction_seconds', 'Duration of the last store compaction', (f) => f.lastCompactionSeconds);
  return { created, used, refused, registrations };
}

/**
 * Listen to the core's events and read the sources at each scrape. Two registries,
 * one per text format: prom-client's OpenMetrics rendering renames the counters it
 * is given, so one set of instruments cannot serve both formats.
 */
export function createMetrics(service: EventEmitter<ServiceEvents>, sources: MetricsSources, opts: { storeWaitMs?: number } = {}): Metrics {
  let leader = true;
  let figures: StoreFigures | undefined;
  const read = { figures: () => figures, sources, leader: () => leader };
  const prometheus = new Registry();
  const openMetrics = new Registry<OpenMetricsContentType>();
  openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const sets = [instruments(prometheus, read), instruments(openMetrics, read)];

  service.on('created', ({ invite }) => { for (const s of sets) s.created.inc({ kind: invite.kind }); });
  service.on('used', ({ invite, purpose }) => {
    for (const s of sets) {
      s.used.inc({ purpose });
      if (purpose === 'register' && invite.kind !== 'reset') s.registrations.inc();
    }
  });
  service.on('refused', ({ code }) => { for (const s of sets) s.refused.inc({ reason: code }); });

  return {
    async render(accept) {
      // Read once per scrape (a database store answers over the network); a failed read keeps the last figures.
      try {
        figures = await sources.store();
      } catch {
        // /health says whether the store is there.
      }
      const registry = wantsOpenMetrics(accept) ? openMetrics : prometheus;
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    async health() {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => { timer = setTimeout(resolve, opts.storeWaitMs ?? STORE_WAIT_MS, false); });
      const store = await Promise.race([sources.storeOpen(), late]).finally(() => clearTimeout(timer));
      const bot = sources.botOnline();
      const component = sources.componentOnline?.() ?? false;
      // Degraded: what this instance should hold is not connected (no component configured is not a fault).
      const connected = bot && (component || !sources.componentOnline);
      const status = store && (connected || !leader) ? 'ok' : 'degraded';
      return { httpStatus: store ? 200 : 503, body: { status, component, bot, store, leader } };
    },
    setLeader(value) {
      leader = value;
    },
  };
}
