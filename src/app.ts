// The running service: store (one writer), invite core, bot and control socket,
// started and stopped together.
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
import { followUps } from './follow-ups.js';
import type { InviteService } from './invites/service.js';
import { log } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { freePorts } from './prosody/free-port.js';
import { SenderLimit } from './rate-limit.js';
import type { InviteStore } from './store/store.js';
import type { FastifyInstance } from 'fastify';
import { loadClients } from './web/clients.js';
import { startWeb, type WebOptions } from './web/server.js';
import { AdminCommands } from './xmpp/admin-commands.js';

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
}

export class App {
  private timer?: NodeJS.Timeout;
  private stopping?: Promise<void>;
  /** The web pages' HTTP server, when PUBLIC_URL is set. */
  web?: FastifyInstance;

  private constructor(
    public config: Config,
    readonly store: InviteStore,
    readonly service: InviteService,
    readonly bot: Bot,
    readonly component: Component | undefined,
    private readonly control: Server,
    /** /metrics and /health; leader election calls its setLeader. */
    readonly metrics: Metrics,
  ) {}

  static async start(config: Config, opts: AppOptions = {}): Promise<App> {
    if (!config.xmppService) throw new Error('XMPP_SERVICE is not set');
    let control: Server | undefined;
    let bot: Bot | undefined;
    let component: Component | undefined;
    let core: Awaited<ReturnType<typeof openCore>> | undefined;
    try {
      core = await openCore(config); // first: the store's writer lock (StoreLockedError)
      const { store, service } = core;
      // Subscribed before anything can create or use an invite; the rest is read at each scrape.
      const metrics = createMetrics(service, {
        store: () => store.stats(),
        // Open, and answering (a database store may not be).
        storeOpen: () => !app.stopping && store.stats().then(() => true, () => false),
        botOnline: () => bot?.xmpp.status === 'online',
        componentOnline: config.componentSecret ? () => component?.online ?? false : undefined,
      });
      // One limit over both addresses (the bot's full JID, the component): no doubling by asking both.
      const adhocOpts = { limit: new SenderLimit(config.adhocRateLimit), limitAdmins: config.rateLimitAdmins, sessions: opts.adhocSessions };
      control = await serveControl(controlSocketPath(config.storeFile), (op) => runOperation(service, op));
      bot = new Bot({
        service: config.xmppService,
        jid: config.botJid,
        password: config.botPassword,
        resource: config.botResource,
        debug: config.xmppDebug,
        rateLimit: config.botRateLimit,
        rateLimitAdmins: config.rateLimitAdmins,
      }, new Dispatcher(service, commands), new Adhoc(service, adhocOpts));
      await bot.start();
      component = config.componentSecret ? new Component({
        service: config.componentService,
        domain: config.componentDomain,
        secret: config.componentSecret,
        debug: config.xmppDebug,
        backoff: opts.componentBackoff,
      }) : undefined;
      if (component) {
        serveBridge(component.iqCallee, service, config.xmppDomain, {
          perAddress: new SenderLimit(config.preauthRateLimit),
          exempt: config.preauthLimitExempt,
        });
        // Holds whose outcome was never heard (lost commit, restart) are settled by asking the bridge.
        const c = component;
        // Asked on every command too (is the sender a server admin?): a short wait.
        service.server = {
          account: (jid) => c.account(config.xmppDomain, jid, 3_000),
          nodeprep: (username) => c.nodeprep(config.xmppDomain, username),
        };
        c.xmpp.on('online', () => {
          service.settlePending().catch((e: Error) => log.error(`settling pending invite uses: ${e.message}`));
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
      followUps(service, { bot, component, domain: config.xmppDomain });
      const app: App = new App(config, store, service, bot, component, control, metrics);
      await app.startWeb(opts.web);
      await app.prune();
      app.timer = setInterval(() => void app.prune(), PRUNE_EVERY_MS).unref();
      return app;
    } catch (e) {
      await component?.stop();
      await bot?.stop();
      control?.close();
      core?.service.close();
      await core?.store.close();
      throw e;
    }
  }

  // Web pages (issue 5): served only with PUBLIC_URL, the base every page link is built from.
  // A failure (bad CLIENTS_FILE, port taken) leaves nothing listening; start()'s catch cleans up the rest.
  private async startWeb(opts?: WebOptions): Promise<void> {
    if (!this.config.publicUrl) return;
    const admin = new AdminCommands(this.bot.xmpp.iqCaller, this.config.xmppDomain);
    const clients = loadClients(this.config.clientsFile);
    try {
      this.web = await startWeb({ config: this.config, service: this.service, admin, clients, metrics: this.metrics }, opts);
    } catch (e) {
      // A port npm start picked as free, taken before we listened (another start at the same moment): any free one.
      if (!this.config.httpPortChosen || !/EADDRINUSE/.test((e as Error).message)) throw e;
      const [port] = await freePorts(1);
      const publicUrl = `http://127.0.0.1:${port}`;
      log.warn(`web pages: port ${this.config.httpPort} was taken meanwhile; using ${port}`);
      this.config = { ...this.config, httpPort: port!, publicUrl };
      this.service.settings.publicUrl = publicUrl; // the links of invites made from now on
      this.web = await startWeb({ config: this.config, service: this.service, admin, clients, metrics: this.metrics }, opts);
    }
  }

  private async prune(): Promise<void> {
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

  /** Close connections, flush the store and let go of its lock. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.timer);
      await this.web?.close();
      this.control.close();
      await this.component?.stop();
      await this.bot.stop();
      this.service.close();
      await this.store.close();
    })();
    return this.stopping;
  }
}
