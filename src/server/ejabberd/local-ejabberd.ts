// A private, throwaway ejabberd for the tests, as local-prosody.ts is for Prosody:
// our own child process on 127.0.0.1, config, database and logs in one directory,
// never outliving the Node process that started it.
//
// Started with `erl` directly, not ejabberdctl (which su's, forks, and leaves epmd and a
// server behind): no node name, so no distribution and no epmd. Accounts are made and
// asked about while it runs through a control channel on the child's stdin/stdout: the
// -eval spawns a loop that reads one command a line and answers one line, marked so
// it stands out from anything else ejabberd prints there. stdin closing (Node gone)
// halts the node, so it cannot outlive us even if the exit hooks do not run.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type EjabberdBuild, EjabberdNotInstalledError, ejabberdBuild, ejabberdInstalled } from './builds.js';
import { acceptsTcp, freePorts } from '../free-port.js';
import type { LocalXmppServer } from '../local-xmpp-server.js';
import { ensurePrivateDir, PRIVATE_FILE } from '../../private-files.js';
import { keepLog, logTail, readLog, watchExit, type ChildExit } from '../../server-process.js';

export { EjabberdNotInstalledError };

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BRIDGE_SOURCE = path.join(ROOT, 'server/ejabberd/mod_invites_bridge.erl');
export const BRIDGE_EBIN = path.join(ROOT, 'server/ejabberd/ebin');
const BRIDGE_BUILD = path.join(ROOT, 'scripts/build-ejabberd-bridge.sh');

export interface LocalEjabberdOptions {
  /** Config, database and logs live here. Default: a fresh temp dir, removed on stop. A given dir is kept (data persists). */
  dir?: string;
  /** The first host. Default 'localhost'. */
  domain?: string;
  /** Further hosts. */
  hosts?: string[];
  /** Bare JIDs in the `admin` ACL, which gates XEP-0133 (mod_configure). */
  admins?: string[];
  /** An external component (XEP-0114), with roster (both) and outgoing message privileges (XEP-0356). */
  component?: { domain: string; secret: string };
  /** Load our mod_invites_bridge, told the component's domain. Needs `component`. */
  bridge?: boolean;
  /** The bridge's wait for the component, seconds (its `timeout`; default 5). */
  bridgeTimeout?: number;
  /** In-band registration (mod_register): 'open' to anyone, or 'closed' (the default). */
  registration?: 'open' | 'closed';
  /** Default: a free port. */
  c2sPort?: number;
  /** Default: a free port. */
  componentPort?: number;
  /** Default 20000. */
  startTimeoutMs?: number;
  /** Which ejabberd. Default: the one EJABBERD_VERSION names (see builds.ts). */
  build?: EjabberdBuild;
}

const HOST = '127.0.0.1';
const MARK = '@@ejctl';

// The control loop, run in the node after `-s ejabberd` has returned. Arguments come
// base64-encoded (any byte may be in a name or password); answers are ASCII.
// ejabberd_auth nodepreps the names itself.
const CONTROL = `
Started = lists:keymember(ejabberd, 1, application:which_applications()),
if not Started -> io:put_chars("${MARK} failed\\n"), halt(1); true -> ok end,
Show = fun(T) -> re:replace(io_lib:format("~0p", [T]), "[^ -~]", "?", [global, {return, list}]) end,
Run = fun
  ([<<"register">>, U, H, P]) ->
    case ejabberd_auth:try_register(U, H, P) of
      ok -> "ok";
      {error, exists} -> case ejabberd_auth:set_password(U, H, P) of ok -> "ok"; E -> "error " ++ Show(E) end;
      E -> "error " ++ Show(E)
    end;
  ([<<"exists">>, U, H]) -> atom_to_list(ejabberd_auth:user_exists(U, H));
  ([<<"unregister">>, U, H]) ->
    case ejabberd_auth:user_exists(U, H) of
      false -> "error no such user";
      true -> case ejabberd_auth:remove_user(U, H) of ok -> "ok"; E -> "error " ++ Show(E) end
    end;
  ([<<"loaded">>, H, M]) -> atom_to_list(gen_mod:is_loaded(H, binary_to_atom(M, utf8)));
  ([<<"record">>, U, H]) ->
    case ejabberd_auth:user_exists(U, H) of
      false -> "none";
      true -> "record " ++ binary_to_list(base64:encode(term_to_binary(ejabberd_auth:get_password(U, H))))
    end;
  (Other) -> "error unknown command " ++ Show(Other)
end,
spawn(fun Loop() ->
  case io:get_line(standard_io, "") of
    Line when is_list(Line); is_binary(Line) ->
      [Id | Args] = string:lexemes(string:trim(unicode:characters_to_list(Line)), " "),
      Answer = try Run([base64:decode(A) || A <- Args]) catch C:R -> "error " ++ Show({C, R}) end,
      io:put_chars(["${MARK} ", Id, " ", Answer, "\\n"]),
      Loop();
    _ -> halt(0)
  end
end),
{ok, Vsn} = application:get_key(ejabberd, vsn),
io:put_chars(["${MARK} ready ", Vsn, "\\n"]).
`;

// ---------------------------------------------------------------------------
// Never leave an ejabberd behind (as local-prosody.ts: one synchronous cleanup per child).

const emergencyCleanups = new Set<() => void>();
let exitHooksInstalled = false;

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const cleanupAll = () => {
    for (const cleanup of emergencyCleanups) cleanup();
    emergencyCleanups.clear();
  };
  process.on('exit', cleanupAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      if (process.listenerCount(signal) > 1) return;
      cleanupAll();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

export class EjabberdPortInUseError extends Error {}

// ---------------------------------------------------------------------------
// YAML: block mappings, every scalar a JSON string (which YAML reads as a
// double-quoted scalar), so no value can break out of its place.

type Yaml = string | number | boolean | { bare: string } | Yaml[] | { [k: string]: Yaml };

function yamlScalar(v: Yaml): string | undefined {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && !Array.isArray(v) && 'bare' in v && typeof v.bare === 'string') return v.bare;
  if (Array.isArray(v) && v.every((x) => yamlScalar(x) !== undefined)) return `[${v.map(yamlScalar).join(', ')}]`;
  if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) return '{}';
  return undefined;
}

function yaml(v: Yaml, indent = ''): string[] {
  if (Array.isArray(v)) {
    return v.flatMap((item) => {
      const [first, ...rest] = yaml(item, `${indent}  `);
      return [`${indent}- ${first!.trimStart()}`, ...rest];
    });
  }
  return Object.entries(v as Record<string, Yaml>).flatMap(([k, x]) => {
    const key = /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : JSON.stringify(k);
    const scalar = yamlScalar(x);
    return scalar !== undefined ? [`${indent}${key}: ${scalar}`] : [`${indent}${key}:`, ...yaml(x, `${indent}  `)];
  });
}

/** A child's pipe is a net.Socket underneath, which can be (un)ref'd; the types do not say so. */
function refPipe(pipe: unknown, on: boolean): void {
  const socket = pipe as { ref?: () => void; unref?: () => void } | null;
  if (on) socket?.ref?.();
  else socket?.unref?.();
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

interface Settings {
  domain: string;
  hosts: string[];
  admins: string[];
  component: { domain: string; secret: string } | undefined;
  bridge: boolean;
  bridgeTimeout?: number;
  registration: 'open' | 'closed';
  startTimeoutMs: number;
  build: EjabberdBuild;
}

export class LocalEjabberd implements LocalXmppServer {
  readonly kind = 'ejabberd' as const;
  readonly domain: string;
  readonly dir: string;
  readonly configPath: string;
  /** ejabberd's own log (EJABBERD_LOG_PATH); errors also go to error.log beside it. */
  readonly logPath: string;
  /** What the node printed outside ejabberd's logger (boot errors, crash reports before the logger runs). */
  readonly consolePath: string;
  readonly c2sPort: number;
  readonly componentPort: number;
  readonly build: EjabberdBuild;

  readonly #settings: Settings;
  readonly #ownsDir: boolean;
  #child: ChildProcess | undefined;
  #exit: ChildExit | undefined;
  #exited: Promise<void> = Promise.resolve();
  #lastPid: number | undefined;
  #stopping: Promise<void> | undefined;
  #ready: ((vsn: string) => void) | undefined;
  #pending = new Map<string, (answer: string) => void>();
  #serial = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #sawPortInUse = false;

  private constructor(settings: Settings, dir: string, ownsDir: boolean, c2sPort: number, componentPort: number) {
    this.#settings = settings;
    this.#ownsDir = ownsDir;
    this.domain = settings.domain;
    this.dir = dir;
    this.configPath = path.join(dir, 'ejabberd.yml');
    this.logPath = path.join(dir, 'log', 'ejabberd.log');
    this.consolePath = path.join(dir, 'log', 'console.log');
    this.c2sPort = c2sPort;
    this.componentPort = componentPort;
    this.build = settings.build;
  }

  static async start(opts: LocalEjabberdOptions = {}): Promise<LocalEjabberd> {
    const build = opts.build ?? ejabberdBuild();
    if (!ejabberdInstalled(build)) throw new EjabberdNotInstalledError(build);
    if (opts.bridge && !opts.component) throw new TypeError('LocalEjabberd: bridge needs a component');
    if (opts.bridge) await ensureBridgeBuilt();
    const settings: Settings = {
      build,
      domain: opts.domain ?? 'localhost',
      hosts: opts.hosts ?? [],
      admins: opts.admins ?? [],
      component: opts.component,
      bridge: opts.bridge ?? false,
      bridgeTimeout: opts.bridgeTimeout,
      registration: opts.registration ?? 'closed',
      startTimeoutMs: opts.startTimeoutMs ?? 20000,
    };
    const ownsDir = opts.dir === undefined;
    const dir = opts.dir === undefined
      ? await fsp.mkdtemp(path.join(os.tmpdir(), 'xmpp-invites-ejabberd-'))
      : path.resolve(opts.dir);
    // Mnesia's dir is given as an Erlang string on the command line.
    if (/["\\]/.test(dir)) throw new TypeError(`LocalEjabberd: no " or \\ in the dir, please: ${dir}`);

    for (let attempt = 1; ; attempt++) {
      const [c2s, component] = await freePorts(2, HOST);
      const server = new LocalEjabberd(settings, dir, ownsDir, opts.c2sPort ?? c2s!, opts.componentPort ?? component!);
      try {
        await server.#launch();
        return server;
      } catch (err) {
        const chosen = opts.c2sPort === undefined && opts.componentPort === undefined;
        if (err instanceof EjabberdPortInUseError && chosen && attempt < 3) {
          await server.#halt();
          continue;
        }
        await server.stop();
        throw err;
      }
    }
  }

  get version(): string {
    return this.build.version;
  }

  /** PID of the running node (beam.smp: `erl` execs it); undefined when stopped or exited. */
  get pid(): number | undefined {
    return this.#exit ? undefined : this.#child?.pid;
  }

  get service(): string {
    return `xmpp://${HOST}:${this.c2sPort}`;
  }

  get componentService(): string {
    return `xmpp://${HOST}:${this.componentPort}`;
  }

  /** Create (or overwrite the password of) an account. Works while the server runs. */
  async register(username: string, password: string, host = this.domain): Promise<void> {
    const answer = await this.#control('register', username, host, password);
    if (answer !== 'ok') throw new Error(`ejabberd register ${username}@${host} failed: ${answer}`);
  }

  /** Delete an account; rejects if it does not exist. */
  async unregister(username: string, host = this.domain): Promise<void> {
    const answer = await this.#control('unregister', username, host);
    if (answer !== 'ok') throw new Error(`ejabberd unregister ${username}@${host} failed: ${answer}`);
  }

  async userExists(username: string, host = this.domain): Promise<boolean> {
    const answer = await this.#control('exists', username, host);
    if (answer !== 'true' && answer !== 'false') throw new Error(`ejabberd user_exists ${username}@${host} failed: ${answer}`);
    return answer === 'true';
  }

  /** The account's stored credentials, as ejabberd keeps them (for "unchanged" checks); undefined: no such account. */
  async accountRecord(username: string, host = this.domain): Promise<string | undefined> {
    const answer = await this.#control('record', username, host);
    if (answer === 'none') return undefined;
    if (!answer.startsWith('record ')) throw new Error(`ejabberd get_password ${username}@${host} failed: ${answer}`);
    return answer.slice('record '.length);
  }

  /** Whether ejabberd runs module `name` (e.g. mod_invites_bridge) on `host`. */
  async moduleLoaded(name: string, host = this.domain): Promise<boolean> {
    const answer = await this.#control('loaded', host, name);
    if (answer !== 'true' && answer !== 'false') throw new Error(`ejabberd gen_mod:is_loaded ${name} failed: ${answer}`);
    return answer === 'true';
  }

  readLog(): Promise<string> {
    return readLog(this.logPath);
  }

  logTail(lines = 40): Promise<string> {
    return logTail(this.logPath, lines);
  }

  /** Stop ejabberd, keep its logs if PROSODY_KEEP_LOGS is set, remove our temp dir. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#halt();
      this.#keepLogs(this.#lastPid);
      if (this.#ownsDir) await fsp.rm(this.dir, { recursive: true, force: true });
    })();
    return this.#stopping;
  }

  /** Stop and start again with the same dir, database and ports. */
  async restart(): Promise<void> {
    if (this.#stopping) throw new Error('LocalEjabberd.restart(): already stopped');
    await this.#halt();
    try {
      await this.#launch();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  #keepLogs(pid: number | undefined): void {
    keepLog(this.logPath, `ejabberd-${this.domain}`, pid);
    keepLog(this.consolePath, `ejabberd-${this.domain}-console`, pid);
  }

  /** One command at a time: the loop in the node answers in order, one line each. */
  #control(command: string, ...args: string[]): Promise<string> {
    const run = async () => {
      const child = this.#child;
      if (!child || this.#exit) throw new Error(`ejabberd is not running (${command})`);
      const id = String(++this.#serial);
      const answer = new Promise<string>((resolve) => this.#pending.set(id, resolve));
      // Node waits for an answer on its way; otherwise the pipes do not keep it alive.
      refPipe(child.stdout, true);
      child.stdin!.write(`${id} ${[command, ...args].map(b64).join(' ')}\n`);
      return answer.finally(() => { if (!this.#pending.size) refPipe(child.stdout, false); });
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #renderConfig(): string {
    const s = this.#settings;
    const hosts = [s.domain, ...s.hosts];
    const listen: Yaml[] = [{
      port: this.c2sPort, ip: HOST, module: 'ejabberd_c2s',
      // No certificates, so plain text on loopback.
      starttls_required: false,
    }];
    const modules: Record<string, Yaml> = {
      mod_adhoc: {},
      mod_configure: {}, // XEP-0133, gated by the configure rule
      mod_last: {}, // mod_configure's get-user-lastlogin
      mod_disco: {},
      mod_roster: {},
      mod_register: { access: s.registration === 'open' ? 'register' : 'none' },
      mod_caps: {},
      mod_ping: {},
      mod_offline: {},
      mod_carboncopy: {},
      mod_private: {},
      mod_version: {},
      // The bot's profile: its nick as a PEP item, its vcard-temp vCard (src/bot/profile.ts).
      mod_pubsub: { plugins: ['flat', 'pep'] },
      mod_vcard: {},
    };
    const acl: Record<string, Yaml> = s.admins.length ? { admin: { user: s.admins } } : {};
    const rules: Record<string, Yaml> = {
      configure: { allow: 'admin' },
      register: { allow: 'all' },
    };
    if (s.component) {
      listen.push({
        port: this.componentPort, ip: HOST, module: 'ejabberd_service',
        hosts: { [s.component.domain]: { password: s.component.secret } },
      });
      // XEP-0356 for our component only.
      acl.invites_component = { server: [s.component.domain] };
      rules.invites_privileged = { allow: 'invites_component' };
      modules.mod_privilege = { roster: { both: 'invites_privileged' }, message: { outgoing: 'invites_privileged' } };
      if (s.bridge) modules.mod_invites_bridge = { component: s.component.domain, ...(s.bridgeTimeout !== undefined ? { timeout: s.bridgeTimeout } : {}) };
    }
    const config: Record<string, Yaml> = {
      hosts,
      loglevel: process.env.EJABBERD_DEBUG === '1' ? 'debug' : 'info',
      certfiles: [],
      acme: { auto: false },
      auth_method: ['mnesia'],
      // The default allows one in-band registration per address per 10 minutes.
      registration_timeout: { bare: 'infinity' },
      // No s2s listener, and no outgoing s2s either; no HTTP listener.
      s2s_access: 'none',
      listen,
      ...(Object.keys(acl).length ? { acl } : {}),
      access_rules: rules,
      modules,
    };
    return ['# Generated by src/server/ejabberd/local-ejabberd.ts on every start; edits are lost.', ...yaml(config)].join('\n') + '\n';
  }

  async #launch(): Promise<void> {
    const config = this.#renderConfig();
    // The config holds the component secret; the database holds accounts: the owner's alone.
    for (const sub of ['', 'db', 'log']) ensurePrivateDir(path.join(this.dir, sub));
    await fsp.writeFile(this.configPath, config, { mode: PRIVATE_FILE });
    await fsp.chmod(this.configPath, PRIVATE_FILE); // an older file keeps its mode otherwise

    // stderr goes straight to a file (it can never block the node); stdout is the control
    // channel, read all the time, and what is not ours goes to the same file.
    const consoleFd = fs.openSync(this.consolePath, 'a', PRIVATE_FILE);
    fs.fchmodSync(consoleFd, PRIVATE_FILE);
    const logOffset = await fsp.stat(this.logPath).then((st) => st.size, () => 0);
    const args = [
      '-noshell', // not -noinput: stdin is the control channel
      // Last on the code path (-pz): its dir is named ejabberd/ebin, and first (-pa) it would be
      // taken for ejabberd's own app dir (24.12 then looks for its translations there).
      ...(this.#settings.bridge ? ['-pz', BRIDGE_EBIN] : []),
      '-mnesia', 'dir', `"${path.join(this.dir, 'db')}"`,
      '-s', 'ejabberd',
      '-eval', CONTROL,
    ];
    let child: ChildProcess;
    // Logs and the database are written with our umask, set for the (synchronous) fork only.
    const umask = process.umask(0o077);
    try {
      child = spawn(this.build.erl, args, {
        stdio: ['pipe', 'pipe', consoleFd],
        env: {
          ...process.env,
          ERL_LIBS: this.build.erlLibs.join(path.delimiter),
          EJABBERD_CONFIG_PATH: this.configPath,
          EJABBERD_LOG_PATH: this.logPath,
          HOME: this.dir,
          ERL_CRASH_DUMP_BYTES: '0',
          // An ERL_FLAGS or ERL_AFLAGS of the caller's could name the node (and start epmd).
          ERL_FLAGS: '',
          ERL_AFLAGS: '',
          ERL_ZFLAGS: '',
        },
        // Own session: a Ctrl-C in the terminal reaches only Node (see local-prosody.ts).
        detached: true,
      });
    } finally {
      process.umask(umask);
      fs.closeSync(consoleFd);
    }
    this.#child = child;
    this.#exit = undefined;
    this.#sawPortInUse = false;
    this.#lastPid = child.pid;
    this.#exited = watchExit(child, (exit) => {
      this.#exit = exit;
      for (const answer of this.#pending.values()) answer(`error ejabberd exited (code ${exit.code}, signal ${exit.signal})`);
      this.#pending.clear();
    });
    child.stdin!.on('error', () => {}); // a write after the node has gone
    const ready = new Promise<string>((resolve) => { this.#ready = resolve; });
    const lines = createInterface({ input: child.stdout! });
    const consolePath = this.consolePath;
    lines.on('line', (line) => {
      if (!line.startsWith(`${MARK} `)) {
        if (line.includes('eaddrinuse')) this.#sawPortInUse = true;
        fs.appendFileSync(consolePath, line + '\n');
        return;
      }
      const [id, ...rest] = line.slice(MARK.length + 1).split(' ');
      if (id === 'ready') this.#ready?.(rest.join(' '));
      else if (id === 'failed') fs.appendFileSync(consolePath, 'ejabberd did not start\n');
      else {
        const answer = this.#pending.get(id!);
        this.#pending.delete(id!);
        answer?.(rest.join(' '));
      }
    });
    // Do not keep Node alive just for ejabberd; the exit hooks kill it when Node goes.
    child.unref();
    refPipe(child.stdin, false);
    refPipe(child.stdout, false);

    const { dir } = this;
    const cleanup = () => {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
      this.#keepLogs(child.pid);
      if (this.#ownsDir) fs.rmSync(dir, { recursive: true, force: true });
    };
    emergencyCleanups.add(cleanup);
    void this.#exited.then(() => emergencyCleanups.delete(cleanup));
    installExitHooks();

    await this.#waitUntilReady(ready, logOffset);
  }

  async #waitUntilReady(ready: Promise<string>, logOffset: number): Promise<void> {
    const deadline = Date.now() + this.#settings.startTimeoutMs;
    const failure = async (why: string) => {
      await this.#halt();
      const console = (await readLog(this.consolePath)).trimEnd().split('\n').slice(-15).join('\n');
      return `ejabberd ${this.version} failed to start: ${why}\n--- ${this.logPath} (last lines) ---\n${await this.logTail(30)}` +
        `\n--- ${this.consolePath} (last lines) ---\n${console}`;
    };
    let vsn: string | undefined;
    void ready.then((v) => { vsn = v; });
    for (;;) {
      const log = (await fsp.readFile(this.logPath).catch(() => Buffer.alloc(0))).subarray(logOffset).toString();
      // The logger writes its file with a delay; the console copy (stdout) comes at once.
      if (/eaddrinuse/.test(log) || this.#sawPortInUse) throw new EjabberdPortInUseError(await failure('a port is already in use'));
      if (vsn !== undefined) {
        // ERL_LIBS decides which ejabberd loads: make sure it is the one asked for.
        if (!vsn.startsWith(this.version)) throw new Error(await failure(`ejabberd ${vsn} loaded, not ${this.version}: check ERL_LIBS`));
        const ports = [this.c2sPort, ...(this.#settings.component ? [this.componentPort] : [])];
        if ((await Promise.all(ports.map((p) => acceptsTcp(p, HOST)))).every(Boolean)) return;
      }
      if (this.#exit) {
        const { code, signal } = this.#exit;
        throw new Error(await failure(`process exited (code ${code}, signal ${signal})`));
      }
      if (Date.now() > deadline) throw new Error(await failure(`not ready after ${this.#settings.startTimeoutMs} ms`));
      await sleep(25);
    }
  }

  /** Stop the node (SIGTERM, which Erlang takes as init:stop(); SIGKILL after 5 s) but keep the dir. */
  async #halt(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    if (!this.#exit) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(timer);
    }
    this.#child = undefined;
  }
}

/** Build server/ejabberd/ebin/mod_invites_bridge.beam when it is missing or older than the .erl. */
export async function ensureBridgeBuilt(): Promise<void> {
  const mtime = (f: string) => fsp.stat(f).then((st) => st.mtimeMs, () => undefined);
  const [source, beam] = await Promise.all([mtime(BRIDGE_SOURCE), mtime(path.join(BRIDGE_EBIN, 'mod_invites_bridge.beam'))]);
  if (source === undefined) throw new Error(`no ${BRIDGE_SOURCE}: the ejabberd bridge is not there to load`);
  if (beam !== undefined && beam >= source) return;
  try {
    await execFileAsync('bash', [BRIDGE_BUILD], { timeout: 60000 });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`building the ejabberd bridge failed (${BRIDGE_BUILD}):\n${`${stderr ?? ''}\n${stdout ?? ''}`.trim()}`);
  }
}
