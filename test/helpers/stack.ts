// A real XMPP server, the service (App) configured through the real env parser,
// and real xmpp.js users. Everything started here is stopped by stop().
// The server: TEST_SERVER=prosody (the default) or ejabberd; which build of it,
// PROSODY_VERSION or EJABBERD_VERSION (test/run.mts sets them per run).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type AppOptions } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { bridgeOptions } from '../../src/server/prosody/bridge-setup.js';
import { LocalProsody, type LocalProsodyOptions } from '../../src/server/prosody/local-prosody.js';
import { ejabberdBuild } from '../../src/server/ejabberd/builds.js';
import { LocalEjabberd, type LocalEjabberdOptions } from '../../src/server/ejabberd/local-ejabberd.js';
import { prosodyBuild } from '../../src/server/prosody/builds.js';
import type { LocalXmppServer } from '../../src/server/local-xmpp-server.js';
import { connectUser, type User } from './xmpp-user.js';

export const DOMAIN = 'localhost';
export const BOT = `invitebot@${DOMAIN}`;
export const PASSWORD = 'test-password-1';
export const COMPONENT = `invites.${DOMAIN}`;
export const COMPONENT_SECRET = 'component-secret-1';

export interface Stack {
  server: LocalXmppServer;
  app: App;
  dir: string;
  env: Record<string, string>;
  /** Every client made by user(), all stopped by stop(). */
  users: User[];
  /** Register (if new) and log in a user. */
  user(jid: string): Promise<User>;
  startApp(): Promise<App>;
  stop(): Promise<void>;
}

export type TestServer = LocalXmppServer['kind'];

/** The server TEST_SERVER names (default prosody). */
export function testServer(env: NodeJS.ProcessEnv = process.env): TestServer {
  const wanted = env.TEST_SERVER?.trim() || 'prosody';
  if (wanted !== 'prosody' && wanted !== 'ejabberd') throw new Error(`TEST_SERVER: expected prosody or ejabberd, not ${JSON.stringify(wanted)}`);
  return wanted;
}

/** The server the suites run on, for their titles: "Prosody 0.12", "ejabberd 23.01". */
export function serverName(env: NodeJS.ProcessEnv = process.env): string {
  return testServer(env) === 'ejabberd' ? `ejabberd ${ejabberdBuild(env).version}` : `Prosody ${prosodyBuild(env).version}`;
}

export interface StackOptions {
  /** Used when the server is Prosody. */
  prosody?: LocalProsodyOptions;
  /** Used when the server is ejabberd. Prosody's extraHosts are its hosts too; Prosody's other options are not. */
  ejabberd?: LocalEjabberdOptions;
  app?: AppOptions | false;
}

/** The bridge and the component are part of every stack, as in production. Exported for tests that stop and start the server themselves. */
export function startServer(opts: Omit<StackOptions, 'app'> = {}): Promise<LocalXmppServer> {
  if (testServer() === 'ejabberd') {
    return LocalEjabberd.start({
      domain: DOMAIN,
      admins: [BOT],
      hosts: (opts.prosody?.extraHosts ?? []).map((h) => h.domain),
      component: { domain: COMPONENT, secret: COMPONENT_SECRET },
      bridge: true,
      // Open to the bridge, which asks the component about every registration.
      registration: 'open',
      ...opts.ejabberd,
    });
  }
  return LocalProsody.start({ domain: DOMAIN, admins: [BOT], ...bridgeOptions(COMPONENT, COMPONENT_SECRET), ...opts.prosody });
}

/** `app: false`: the service is not started here (a caller runs it in its own process, with `env`). */
export async function startStack(env: Record<string, string> = {}, opts: StackOptions = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'invites-it-'));
  const server = await startServer(opts);
  await server.register('invitebot', PASSWORD);
  const fullEnv = {
    XMPP_SERVICE: server.service,
    BOT_JID: BOT,
    BOT_PASSWORD: PASSWORD,
    ADMINS: `boss@${DOMAIN}`,
    COMPONENT_DOMAIN: COMPONENT,
    COMPONENT_SERVICE: server.componentService,
    COMPONENT_SECRET,
    STORE_FILE: join(dir, 'invites.json'),
    // Every invitee of the tests comes from loopback: one address for hundreds of registrations.
    PREAUTH_LIMIT_EXEMPT: '127.0.0.1,::1',
    ...env,
  };
  const users: User[] = [];
  const stack: Stack = {
    server,
    app: undefined as unknown as App,
    dir,
    env: fullEnv,
    users,
    async user(jid) {
      const [local, host] = jid.split('@') as [string, string];
      if (!(await server.userExists(local, host))) await server.register(local, PASSWORD, host);
      const u = await connectUser(server.service, jid, PASSWORD);
      users.push(u);
      return u;
    },
    async startApp() {
      stack.app = await App.start(parseConfig(fullEnv), opts.app || {});
      return stack.app;
    },
    async stop() {
      await Promise.all(users.map((u) => u.stop()));
      await stack.app?.stop();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    if (opts.app !== false) await stack.startApp();
  } catch (e) {
    await server.stop();
    await rm(dir, { recursive: true, force: true }); // a failed start leaves nothing behind either
    throw e;
  }
  return stack;
}

/** The stack's server as the Prosody it must be, for tests of what only Prosody has (roles, its files, its own invites). */
export function prosodyOf(stack: Stack): LocalProsody {
  if (!(stack.server instanceof LocalProsody)) throw new Error(`this test needs Prosody, not ${stack.server.kind} ${stack.server.version}`);
  return stack.server;
}
