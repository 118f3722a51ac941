// The running service: store, invite core, web pages, and (on the leading
// instance: the only one with the lowdb store) the bot, the component and the
// control socket, started and stopped together.
import type { Server } from 'node:net';
import { commands } from '../commands/index.js';
import { Adhoc } from './adhoc/adhoc.js';
import { attachAdhoc, type IqRouter } from './adhoc/attach.js';
import type { SessionLimits } from './adhoc/sessions.js';
import { Bot } from './bot/bot.js';
import { serveBridge } from './component/bridge.js';
import { Component } from './component/component.js';
import { Dispatcher } from './bot/dispatch.js';
import type { Config } from './config.js';
import { runOperation } from './control/operations.js';
import { controlSocketPath, serveControl } from './control/socket.js';
import { openCore } from './core.js';
import type { ApiKeys } from './api/keys.js';
import type { GroupService } from './groups/service.js';
import type { JoinedEvent } from './groups/types.js';
import { groupJoined } from './groups/joined.js';
import { translator } from './i18n/i18n.js';
import { followUp, followUpOutcome, FollowUpOutcomes } from './follow-ups.js';
import type { InviteService } from './invites/service.js';
import { type Leadership, PostgresLeader, SoleLeader, leaderLockName } from './leader.js';
import { log } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { freePorts } from './server/free-port.js';
import { SenderLimit } from './rate-limit.js';
import { FollowUpRelay } from './store/postgres/follow-up-relay.js';
import type { InviteStore } from './store/store.js';
import type { FastifyInstance } from 'fastify';
import { loadClients } from './web/clients.js';
import { startWeb, type WebOptions } from './web/server.js';
import { ChosenServer } from './server/choose.js';
import type { AdminResult } from './server/server.js';
import type { Site } from './web/site.js';
import { AdminCommands } from './xmpp/admin-commands.js';
import { AdminConnection } from './xmpp/admin-connection.js';

/**
 * Ended invites stay in the live file this long (so "used"/"expired" can still be told), then are archived.
 * At least a day: MAX_INVITES_PER_DAY counts the invites of the last 24 hours found there.
 */
export const ARCHIVE_GRACE_SECONDS = 24 * 3600;
const PRUNE_EVERY_MS = 3600_000;

export interface AppOptions {
  /** Component reconnect delays (tests shorten them). */
  componentBackoff?: { min: number; max: number };
  /** Ad-hoc session limits (tests make them small). */
  adhocSessions?: Partial<SessionLimits>;
  /** Web rate limits (tests raise or lower them). */
  web?: WebOptions;
  /** How often a waiting instance tries for the lead (PostgreSQL); default 1 s. */
  leaderPollMs?: number;
}

export class App {
  private timer?: NodeJS.Timeout;
  private stopping?: Promise<void>;
  /** The web pages' HTTP server, when PUBLIC_URL is set. */
  web?: FastifyInstance;
  /** What only the leader runs: the bot, the component and the server seam over them (absent while another instance leads). */
  private duties?: { bot: Bot; component?: Component; server: ChosenServer; stop(): Promise<void> };
  /** lead() or stepDown() under way: they run one after another. */
  private turn: Promise<unknown> = Promise.resolve();
  /** What this instance's follow-ups did, for the web form's success page. */
  private readonly followUps = new FollowUpOutcomes();

  private constructor(
    public config: Config,
    readonly store: InviteStore,
    readonly service: InviteService,
    readonly groups: GroupService,
    readonly apiKeys: ApiKeys,
    private readonly control: Server | undefined,
    /** /metrics and /health; leader election calls its setLeader. */
    readonly metrics: Metrics,
    readonly leadership: Leadership,
    private readonly opts: AppOptions,
    /** The web's account maker on a shared store (see AdminConnection); else the bot's connection. */
    private readonly webAdmin?: AdminConnection,
    /** On a shared store: follow-ups of uses here while another instance leads go to it. */
    private readonly relay?: FollowUpRelay,
  ) {}

  /** The bot; only the leading instance has one. */
  get bot(): Bot {
    if (!this.duties) throw new Error('this instance does not lead: another one holds the bot');
    return this.duties.bot;
  }

  get component(): Component | undefined {
    return this.duties?.component;
  }

  /** The server seam the leader uses (the adapter chosen for this server). */
  get server(): ChosenServer | undefined {
    return this.duties?.server;
  }

  get leading(): boolean {
    return this.duties !== undefined;
  }

  static async start(config: Config, opts: AppOptions = {}): Promise<App> {
    if (!config.xmppService) throw new Error('XMPP_SERVICE is not set');
    let control: Server | undefined;
    let core: Awaited<ReturnType<typeof openCore>> | undefined;
    let app: App | undefined;
    let webAdmin: AdminConnection | undefined;
    let relay: FollowUpRelay | undefined;
    try {
      core = await openCore(config); // first: the store's writer lock (StoreLockedError)
      const { store, service, groups } = core;
      // Subscribed before anything can create or use an invite; the rest is read at each scrape.
      const metrics = createMetrics(service, {
        store: () => store.stats(),
        // Open, and answering (a database store may not be).
        storeOpen: () => !app?.stopping && store.stats().then(() => true, () => false),
        botOnline: () => app?.duties?.bot.xmpp.status === 'online',
        componentOnline: config.componentSecret ? () => app?.duties?.component?.online ?? false : undefined,
      });
      // On a shared store an instance leads only once elected.
      if (store.shared) metrics.setLeader(false);
      // A shared store has no one process to ask: the CLI opens the database itself.
      if (!store.shared) control = await serveControl(controlSocketPath(config.storeFile), (op) => runOperation(core!, op));
      if (store.shared && config.publicUrl) {
        webAdmin = new AdminConnection({
          service: config.xmppService, jid: config.botJid, password: config.botPassword, resource: config.botResource, debug: config.xmppDebug,
        });
        await webAdmin.start();
      }
      const leadership: Leadership = store.shared && config.storeUrl
        ? new PostgresLeader(config.storeUrl, leaderLockName(config.xmppDomain), opts.leaderPollMs ? { pollMs: opts.leaderPollMs } : {})
        : new SoleLeader();
      relay = store.shared && config.storeUrl ? new FollowUpRelay(config.storeUrl) : undefined;
      if (leadership instanceof PostgresLeader) service.instance = { id: leadership.instanceId, alive: (id) => leadership.alive(id) };
      app = new App(config, store, service, groups, core.apiKeys, control, metrics, leadership, opts, webAdmin, relay);
      const a = app;
      service.on('used', (e) => {
        // Done here when this instance leads; else stored for the leader (or, alone without a bot, only logged).
        const duties = a.duties;
        const done = duties ? followUpOutcome(e, { bot: duties.bot, server: duties.server, groups })
          : relay ? relay.hand(e).then(() => undefined) : followUpOutcome(e, { bot: noBot, groups });
        a.followUps.record(e, done);
        done.catch((err: Error) => log.error(`follow-up of invite ${e.invite.id}: ${err.stack}`));
      });
      groups.on('joined', (e) => {
        // Contacts, bookmark and room invitation need the bot and the component: the leader's.
        // Stored for the leader when another instance leads (the API is served by every one).
        const done = a.duties ? a.joinedFollowUp(e)
          : relay ? relay.hand({ joined: e })
          : Promise.resolve(log.warn(`group ${e.group.name}: ${e.jid} joined while nothing leads: its contacts are not made`));
        done.catch((err: Error) => log.error(`group ${e.group.name}: the follow-up of ${e.jid} joining failed: ${err.stack}`));
      });
      if (leadership instanceof SoleLeader) {
        // The only instance: it leads from the start, and a bot that cannot log in is a failed start.
        await a.lead();
        await leadership.start();
      } else {
        leadership.on('elected', () => {
          void a.lead().catch((e: Error) => {
            // Holding the lead with no bot would leave every instance without one: let another try.
            log.error(`leader: could not start the bot and component (${e.message}); giving up the lead for now`);
            leadership.resign();
          });
        });
        leadership.on('deposed', () => { void a.stepDown(); });
        await leadership.start();
        // Elected at the first try: started like a sole instance, the bot and component up before start() returns.
        await a.turn;
        if (!leadership.leading) log.info('leader: another instance holds the bot and the component; serving the web pages meanwhile');
      }
      await a.startWeb(opts.web);
      return a;
    } catch (e) {
      await app?.leadership.stop();
      await app?.stepDown();
      await webAdmin?.stop();
      await relay?.close();
      control?.close();
      core?.service.close();
      await core?.store.close();
      throw e;
    }
  }

  /** Start the bot and the component, the archive timer: what the leader does. */
  lead(): Promise<void> {
    const next = this.turn.then(async () => {
      if (this.duties || this.stopping) return;
      const { config, service, opts } = this;
      // One limit over both addresses (the bot's full JID, the component): no doubling by asking both.
      const adhocOpts = { limit: new SenderLimit(config.adhocRateLimit), limitAdmins: config.rateLimitAdmins, sessions: opts.adhocSessions, language: config.language };
      const bot = new Bot({
        service: config.xmppService!,
        jid: config.botJid,
        password: config.botPassword,
        resource: config.botResource,
        debug: config.xmppDebug,
        rateLimit: config.botRateLimit,
        rateLimitAdmins: config.rateLimitAdmins,
        name: config.botName,
        admins: config.admins,
        publicUrl: config.publicUrl,
        language: config.language,
      }, new Dispatcher(service, commands, undefined, config.language), new Adhoc(service, adhocOpts));
      const component = config.componentSecret ? new Component({
        service: config.componentService,
        domain: config.componentDomain,
        secret: config.componentSecret,
        debug: config.xmppDebug,
        backoff: opts.componentBackoff,
      }) : undefined;
      // Everything asked of the server goes through this seam; which adapter is chosen by asking the server.
      const server = new ChosenServer({
        admin: new AdminCommands(bot.xmpp.iqCaller, config.xmppDomain), iq: bot.xmpp.iqCaller, bridge: component, botJid: config.botJid,
      });
      const stop = async () => {
        clearInterval(this.timer);
        await this.relay?.stopTaking();
        if (service.server === server) service.server = undefined;
        if (this.groups.server === server) this.groups.server = undefined;
        await component?.stop();
        await bot.stop();
      };
      try {
        await bot.start();
        service.server = server;
        this.groups.server = server;
        if (component) {
          serveBridge(component.iqCallee, service, config.xmppDomain, {
            perAddress: new SenderLimit(config.preauthRateLimit),
            exempt: config.preauthLimitExempt,
          });
          // A bridge may have come or gone while the component was away: the adapter is chosen again.
          // Then holds whose outcome was never heard (lost commit, restart) are settled by asking the server.
          component.xmpp.on('online', () => {
            server.choose().then(() => service.settlePending())
              .catch((e: Error) => log.error(`settling pending invite uses: ${e.message}`));
          });
          // The same ad-hoc commands as the bot's, at the component's domain (own sessions).
          attachAdhoc(component.iqCallee as IqRouter, new Adhoc(service, adhocOpts), {
            address: config.componentDomain,
            identity: { category: 'component', type: 'generic', name: 'Invites' },
          });
          await component.start();
        } else {
          log.warn('COMPONENT_SECRET is not set: no component, so in-band registration with tokens and contact auto-approval are off');
        }
        await server.choose();
      } catch (e) {
        await stop();
        throw e;
      }
      this.duties = { bot, component, server, stop };
      this.metrics.setLeader(true);
      // Follow-ups of uses on instances that did not lead, stored for whoever leads.
      await this.relay?.startTaking(async (e) => {
        // Before the component is online its steps would fail: kept for the next sweep.
        if (component && !component.online) throw new Error('the component is not online yet');
        if ('joined' in e) {
          await this.joinedFollowUp(e.joined);
          return;
        }
        if (!(await followUp(e, { bot, server, groups: this.groups }))) throw new Error('a step that needed the server failed');
      }).catch((e: Error) => log.error(`follow-up relay: ${e.message}`));
      await this.prune();
      this.timer = setInterval(() => void this.prune(), PRUNE_EVERY_MS).unref();
    });
    this.turn = next.catch(() => {});
    return next;
  }

  /** What joining a group does (groups/joined.ts), with the leader's bot and server; the room invitation in the member's language. */
  private async joinedFollowUp(e: JoinedEvent): Promise<void> {
    const duties = this.duties;
    if (!duties) throw new Error('this instance does not lead');
    const lang = duties.bot.languageOf(e.jid);
    const reason = translator(lang)('common.group.roomInvite', { name: e.group.name, domain: this.config.xmppDomain });
    await groupJoined(e, { server: duties.server, bot: duties.bot, invitation: () => ({ reason, lang }) });
  }

  /** Another instance may lead now: stop the bot and the component at once. */
  stepDown(): Promise<void> {
    const next = this.turn.then(async () => {
      const duties = this.duties;
      this.duties = undefined;
      this.metrics.setLeader(false);
      await duties?.stop();
    });
    this.turn = next.catch(() => {});
    return next;
  }

  // Web pages (issue 5): served only with PUBLIC_URL, the base every page link is built from.
  // A failure (bad CLIENTS_FILE, port taken) leaves nothing listening; start()'s catch cleans up the rest.
  private async startWeb(opts?: WebOptions): Promise<void> {
    if (!this.config.publicUrl) return;
    const admin = this.webAccounts();
    const clients = loadClients(this.config.clientsFile);
    try {
      this.web = await startWeb({ config: this.config, service: this.service, groups: this.groups, apiKeys: this.apiKeys, admin, clients, metrics: this.metrics, followUps: this.followUps }, opts);
    } catch (e) {
      // A port npm start picked as free, taken before we listened (another start at the same moment): any free one.
      if (!this.config.httpPortChosen || !/EADDRINUSE/.test((e as Error).message)) throw e;
      const [port] = await freePorts(1);
      const publicUrl = `http://127.0.0.1:${port}`;
      log.warn(`web pages: port ${this.config.httpPort} was taken meanwhile; using ${port}`);
      this.config = { ...this.config, httpPort: port!, publicUrl };
      this.service.settings.publicUrl = publicUrl; // the links of invites made from now on
      this.web = await startWeb({ config: this.config, service: this.service, groups: this.groups, apiKeys: this.apiKeys, admin, clients, metrics: this.metrics, followUps: this.followUps }, opts);
    }
  }

  /**
   * The web form's way to the server: on a shared store its own connection (the leader may be
   * another instance), with an adapter of its own; else the leader's seam, as it is at each call.
   */
  private webAccounts(): Site['admin'] {
    const { config } = this;
    if (this.webAdmin) {
      const iq = this.webAdmin.xmpp.iqCaller;
      const own = new ChosenServer({ admin: new AdminCommands(iq, config.xmppDomain), iq, botJid: config.botJid });
      // Only the account calls: the follow-ups (contacts, roles) are the leader's, through its bridge.
      return { addUser: (u, p) => own.addUser(u, p), changePassword: (u, p) => own.changePassword(u, p) };
    }
    const seam = () => this.duties?.server;
    const away = async (): Promise<AdminResult> => ({ ok: false, reason: 'unavailable', message: 'the bot is not connected' });
    return {
      addUser: (u, p) => seam()?.addUser(u, p) ?? away(),
      changePassword: (u, p) => seam()?.changePassword(u, p) ?? away(),
      get makesContacts() { return seam()?.makesContacts; },
      get grantsRoles() { return seam()?.grantsRoles; },
    };
  }

  private async prune(): Promise<void> {
    if (!this.duties) return;
    try {
      if (this.component?.online) await this.service.settlePending();
      const n = await this.service.prune(ARCHIVE_GRACE_SECONDS);
      if (n) log.info(`archived ${n} ended invites`);
      if (this.config.archiveDays > 0) {
        const gone = await this.store.pruneArchives(this.config.archiveDays, new Date());
        if (gone.length) log.info(`deleted archives older than ${this.config.archiveDays} days: ${gone.join(', ')}`);
      }
    } catch (e) {
      log.error(`archiving ended invites failed: ${(e as Error).message}`);
    }
  }

  /** Close connections, flush the store and let go of its lock (and of the lead). Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.timer);
      await this.web?.close();
      this.control?.close();
      await this.leadership.stop();
      await this.stepDown();
      await this.webAdmin?.stop();
      await this.relay?.close();
      this.service.close();
      await this.store.close();
    })();
    return this.stopping;
  }
}

/** Follow-ups while another instance leads: no bot here to tell anyone. */
const noBot = {
  tell(to: string): void {
    log.warn(`follow-up: ${to} is not told here: another instance holds the bot`);
  },
};
