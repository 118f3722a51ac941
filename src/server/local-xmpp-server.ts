// What every private test server offers, Prosody's (prosody/local-prosody.ts) and
// ejabberd's (ejabberd/local-ejabberd.ts): the members the shared tests use, so one
// test runs on either. What only one server has (Prosody's roles, its account
// files, its own invites) stays on its class; tests narrow to it.

export type XmppServerKind = 'prosody' | 'ejabberd';

export interface LocalXmppServer {
  readonly kind: XmppServerKind;
  /** The build that runs: '0.12' or '13' for Prosody, '23.01' or '24.12' for ejabberd. */
  readonly version: string;
  /** The main host. */
  readonly domain: string;
  /** Config, data and log live here. */
  readonly dir: string;
  readonly c2sPort: number;
  readonly componentPort: number;
  /** PID of the running server; undefined when stopped or exited. */
  readonly pid: number | undefined;
  /** xmpp://127.0.0.1:PORT for clients. */
  readonly service: string;
  /** xmpp://127.0.0.1:PORT for the component. */
  readonly componentService: string;
  /** Create (or overwrite the password of) an account. Works while the server runs. */
  register(username: string, password: string, host?: string): Promise<void>;
  /** Delete an account; rejects if it does not exist. */
  unregister(username: string, host?: string): Promise<void>;
  userExists(username: string, host?: string): Promise<boolean>;
  /** The account's stored credentials, opaque (compared for "unchanged"); undefined: no such account. */
  accountRecord(username: string, host?: string): Promise<string | undefined>;
  readLog(): Promise<string>;
  logTail(lines?: number): Promise<string>;
  /** Stop, keep the log if PROSODY_KEEP_LOGS is set, remove a temp dir of our own. Idempotent. */
  stop(): Promise<void>;
  /** Stop and start again with the same dir, data and ports. */
  restart(): Promise<void>;
}
