// `npm start` with no XMPP_SERVICE: a private Prosody under data/, with the bot
// registered as its admin and our bridge and component in place, so a fresh
// machine gets a working service (invites that really make accounts) at once.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Config } from './config.js';
import { bridgeOptions } from './server/prosody/bridge-setup.js';
import { acceptsTcp, freePorts } from './server/free-port.js';
import { LocalProsody, PortInUseError } from './server/prosody/local-prosody.js';
import { checkSecretFile, ensurePrivateDir } from './private-files.js';

/** A secret for the local server (the bot's password, the component's), made once and kept beside the store. */
async function localSecret(file: string, what: string): Promise<string> {
  checkSecretFile(file, what);
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.trim()) return existing.trim();
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, password, { mode: 0o600 });
  return password;
}

/** The usual port when it is free, so a client set up once keeps working. */
async function preferred(port: number): Promise<number | undefined> {
  return (await acceptsTcp(port)) ? undefined : port;
}

export async function startLocalServer(config: Config): Promise<{ config: Config; prosody: LocalProsody }> {
  const dataDir = dirname(config.storeFile);
  ensurePrivateDir(dataDir);
  const componentSecret = config.componentSecret ?? (await localSecret(join(dataDir, 'local-component.secret'), 'the component secret'));
  const bridge = bridgeOptions(config.componentDomain, componentSecret);
  const start = (c2sPort?: number, componentPort?: number) => LocalProsody.start({
    ...bridge,
    dir: join(dataDir, 'local-prosody'),
    domain: config.xmppDomain,
    admins: [config.botJid],
    c2sPort,
    componentPort,
    // The harness makes logins cheap for tests; a server people may keep using gets Prosody's defaults.
    fastLogins: false,
  });
  const usual = [await preferred(5222), await preferred(5347)] as const;
  let prosody: LocalProsody;
  try {
    prosody = await start(...usual);
  } catch (e) {
    // Taken between the look and Prosody's bind (another server starting): any free ports then.
    if (!(e instanceof PortInUseError) || usual.every((p) => p === undefined)) throw e;
    prosody = await start();
  }
  const password = config.botPassword || (await localSecret(join(dataDir, 'local-bot.secret'), "the bot's password"));
  // Registering again just sets the same password: safe on every start.
  await prosody.register(config.botJid.split('@')[0]!, password);
  // The web pages too, on loopback, unless the admin chose where they live.
  const httpPort = config.publicUrl ? config.httpPort : (await preferred(config.httpPort)) ?? (await freePorts(1))[0]!;
  const publicUrl = config.publicUrl ?? `http://127.0.0.1:${httpPort}`;
  return {
    config: {
      ...config, xmppService: prosody.service, botPassword: password, componentService: prosody.componentService, componentSecret,
      httpPort, publicUrl, httpPortChosen: !config.publicUrl,
    },
    prosody,
  };
}
