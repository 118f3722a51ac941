// A real Prosody, the service (App) configured through the real env parser,
// and real xmpp.js users. Everything started here is stopped by stop().
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type AppOptions } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { bridgeOptions } from '../../src/server/prosody/bridge-setup.js';
import { LocalProsody, type LocalProsodyOptions } from '../../src/server/prosody/local-prosody.js';
import { connectUser, type User } from './xmpp-user.js';

export const DOMAIN = 'localhost';
export const BOT = `invitebot@${DOMAIN}`;
export const PASSWORD = 'test-password-1';
export const COMPONENT = `invites.${DOMAIN}`;
export const COMPONENT_SECRET = 'component-secret-1';

export interface Stack {
  prosody: LocalProsody;
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

/** `app: false`: the service is not started here (a caller runs it in its own process, with `env`). */
export async function startStack(env: Record<string, string> = {}, opts: { prosody?: LocalProsodyOptions; app?: AppOptions | false } = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'invites-it-'));
  // The bridge and the component are part of every stack, as in production.
  const prosody = await LocalProsody.start({ domain: DOMAIN, admins: [BOT], ...bridgeOptions(COMPONENT, COMPONENT_SECRET), ...opts.prosody });
  await prosody.register('invitebot', PASSWORD);
  const fullEnv = {
    XMPP_SERVICE: prosody.service,
    BOT_JID: BOT,
    BOT_PASSWORD: PASSWORD,
    ADMINS: `boss@${DOMAIN}`,
    COMPONENT_DOMAIN: COMPONENT,
    COMPONENT_SERVICE: prosody.componentService,
    COMPONENT_SECRET,
    STORE_FILE: join(dir, 'invites.json'),
    // Every invitee of the tests comes from loopback: one address for hundreds of registrations.
    PREAUTH_LIMIT_EXEMPT: '127.0.0.1,::1',
    ...env,
  };
  const users: User[] = [];
  const stack: Stack = {
    prosody,
    app: undefined as unknown as App,
    dir,
    env: fullEnv,
    users,
    async user(jid) {
      const [local, host] = jid.split('@') as [string, string];
      if (!(await prosody.userExists(local, host))) await prosody.register(local, PASSWORD, host);
      const u = await connectUser(prosody.service, jid, PASSWORD);
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
      await prosody.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    if (opts.app !== false) await stack.startApp();
  } catch (e) {
    await prosody.stop();
    await rm(dir, { recursive: true, force: true }); // a failed start leaves nothing behind either
    throw e;
  }
  return stack;
}
