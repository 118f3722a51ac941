// npm start: the whole service in one process (one writer for the store).
import { App } from './app.js';
import { ConfigError, type Config, loadDotEnv, parseConfig } from './config.js';
import { describeCreated } from './invites/describe.js';
import { startLocalServer } from './local-server.js';
import { SecretFileError } from './private-files.js';
import { log } from './log.js';
import { StoreCorruptError } from './store/corrupt.js';
import { StoreLockedError } from './store/lowdb/writer-lock.js';
import { type ProsodyBuild, ProsodyVersionError, prosodyBuild } from './server/prosody/builds.js';
import { type LocalProsody, ProsodyNotInstalledError, prosodyInstalled } from './server/prosody/local-prosody.js';
import { type ClientList, loadClients } from './web/clients.js';

/** The apps of the list that open an invite link, each named once (an app listed on two platforms too). */
function appsThatOpenInvites(list: ClientList): string[] {
  return [...new Set(list.platforms.flatMap((p) => p.clients.filter((c) => c.opensInvites).map((c) => c.name)))];
}

/** Where to take the first-run invite: the apps that open it (from the app list the pages show), else the web page. */
function howToOpen(list: ClientList, landingUrl: string | undefined): string {
  const apps = appsThatOpenInvites(list);
  const inApp = apps.length ? `Open it in an app that opens invites (${apps.join(', ')})` : '';
  const other = landingUrl
    ? 'with any other app, open the web page above, register there, then log in with the app'
    : 'with any other app, make an account by hand as shown below (ADMINS=that account makes it an administrator)';
  return inApp ? `${inApp}; ${other}.` : `${other[0]!.toUpperCase()}${other.slice(1)}.`;
}

/** The app list the pages show; a bad CLIENTS_FILE (without PUBLIC_URL nothing else read it) names no app. */
function appList(file: string | undefined): ClientList {
  try {
    return loadClients(file);
  } catch (e) {
    log.warn((e as Error).message);
    return { platforms: [] };
  }
}

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function welcome(app: App, prosody: LocalProsody): Promise<void> {
  const { config, service } = app;
  const lines = [
    '',
    `A local XMPP server (Prosody ${prosody.build.version}) for ${config.xmppDomain} is running on 127.0.0.1:${prosody.c2sPort} (plain, no TLS; data in ${prosody.dir}).`,
    `The invite bot is ${config.botJid}: message it "help".`,
  ];
  if (!service.hasAdmins()) {
    // One first-run invite valid at a time: the one printed by the last start is revoked.
    const firstRun = { system: 'first-run' } as const;
    for await (const old of service.eachPending(firstRun)) for (const inv of old) await service.revoke(firstRun, inv.id);
    const admin = await service.create(firstRun, { kind: 'account', roles: ['admin'] });
    if (admin.ok) {
      lines.push(
        '', 'An invite for the first administrator account:', describeCreated(admin, config.xmppDomain, new Date(), 'en'),
        howToOpen(appList(config.clientsFile), admin.landingUrl),
      );
    }
  }
  lines.push(
    '',
    'To try it with an account made by hand:',
    `  ${prosody.build.version === '0.12' ? 'prosodyctl' : prosody.build.prosodyctl} --config ${prosody.configPath} register alice ${config.xmppDomain} PASSWORD`,
    `then log in as alice@${config.xmppDomain} on 127.0.0.1:${prosody.c2sPort} and send "invite" to ${config.botJid}.`,
    'Set XMPP_SERVICE (see .env.example) to use your real server instead.',
    '',
  );
  process.stdout.write(lines.join('\n') + '\n');
}

async function main(): Promise<void> {
  let config: Config;
  try {
    loadDotEnv();
    config = parseConfig(process.env, { localDefaults: true });
  } catch (e) {
    if (e instanceof ConfigError || e instanceof SecretFileError) fail(`Configuration error: ${e.message}`, 2);
    throw e;
  }

  let prosody: LocalProsody | undefined;
  if (!config.xmppService) {
    let build: ProsodyBuild;
    try {
      build = prosodyBuild();
    } catch (e) {
      if (e instanceof ProsodyVersionError) fail(`Configuration error: ${e.message}`, 2);
      throw e;
    }
    if (!prosodyInstalled(build)) fail(new ProsodyNotInstalledError(build).message, 1);
    log.info('XMPP_SERVICE is not set: starting a local Prosody under data/');
    try {
      ({ config, prosody } = await startLocalServer(config));
    } catch (e) {
      if (e instanceof SecretFileError) fail(`Configuration error: ${e.message}`, 2);
      throw e;
    }
  }

  let app: App;
  try {
    app = await App.start(config);
  } catch (e) {
    await prosody?.stop();
    if (e instanceof StoreLockedError) fail(`${e.message}: is the service already running? (npm run invites talks to it)`, 1);
    if (e instanceof StoreCorruptError) fail(e.message, 1);
    fail(`Could not start: ${(e as Error).message} (XMPP_SERVICE=${config.xmppService}, BOT_JID=${config.botJid})`, 1);
  }
  if (prosody) await welcome(app, prosody);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    await app.stop();
    await prosody?.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

// A bug must not take the service down with it: log it and carry on.
process.on('unhandledRejection', (e) => log.error(`unhandled rejection: ${(e as Error)?.stack ?? e}`));

main().catch((e) => {
  log.debug(`start-up failure: ${(e as Error).stack ?? e}`);
  fail(`Could not start: ${(e as Error).message ?? e}`, 1);
});
