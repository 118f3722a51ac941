// A private, throwaway Prosody: used by `npm start` when no server is configured
// and by every integration test. It runs as our own child process, listens on
// 127.0.0.1 only, keeps config, data and log in one directory, and never
// outlives the Node process that started it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type ProsodyBuild, buildInstalled, prosodyBuild } from './builds.js';
import { acceptsTcp, freePorts } from '../free-port.js';
import { ensurePrivateDir, PRIVATE_FILE } from '../../private-files.js';
import type { LocalXmppServer } from '../local-xmpp-server.js';
import { keepLog, logTail, readLog, watchExit } from '../../server-process.js';
import { datamanagerEncode } from './datamanager.js';

const execFileAsync = promisify(execFile);

export class ProsodyNotInstalledError extends Error {
  constructor(build: ProsodyBuild = prosodyBuild()) {
    super(`Prosody ${build.version} is not installed (no ${build.prosody}): run ${build.installHint}`);
    this.name = 'ProsodyNotInstalledError';
  }
}

/** A value that can be written into the Prosody config as a Lua literal. */
export type LuaOption = string | number | boolean | string[] | Record<string, unknown>;

export interface LocalProsodyOptions {
  /** Config, data and log live here. Default: a fresh temp dir, removed on stop. A given dir is kept (data persists). */
  dir?: string;
  /** The VirtualHost. Default 'localhost'. */
  domain?: string;
  /** Bare JIDs (users or components) for `admins`. */
  admins?: string[];
  components?: { domain: string; secret: string; modules?: string[] }[];
  /** Extra modules_enabled inside the VirtualHost section. */
  hostModules?: string[];
  /** Extra options inside the VirtualHost section. */
  hostOptions?: Record<string, LuaOption>;
  /** Further VirtualHosts. */
  extraHosts?: { domain: string; modules?: string[]; options?: Record<string, LuaOption> }[];
  globalModules?: string[];
  /** Extra plugin_paths, searched before Prosody's own module dir. */
  pluginPaths?: string[];
  /** Default: a free port. */
  c2sPort?: number;
  /** Default: a free port. */
  componentPort?: number;
  /** Default 15000. */
  startTimeoutMs?: number;
  /** Which Prosody. Default: the one PROSODY_VERSION names (see builds.ts). */
  build?: ProsodyBuild;
  /**
   * Cheap logins for a throwaway server (default true): xmpp.js computes SCRAM in
   * JavaScript, so accounts get the fewest SCRAM rounds the build allows.
   * false: Prosody's own default.
   */
  fastLogins?: boolean;
}

const HOST = '127.0.0.1';
// Throwaway server with throwaway passwords: favour fast logins (see the config).
const SCRAM_ITERATIONS = 128;

// A small everyday server. The `tls` module is disabled because there are no
// certificates: offered STARTTLS would make xmpp.js fail the TLS handshake.
// pep and vcard_legacy (both builds ship them, with vcard4) serve the bot's profile: its nick as a
// PEP item, its vcard-temp vCard kept as a vCard4 PEP item (src/bot/profile.ts). Not mod_vcard:
// it conflicts with vcard_legacy.
const DEFAULT_MODULES = [
  'roster', 'saslauth', 'disco', 'carbons', 'pep', 'private', 'blocklist',
  'vcard4', 'vcard_legacy', 'version', 'uptime', 'time', 'ping',
  'admin_adhoc', // XEP-0133, used by admin components
  'admin_shell', // prosodyctl shell (13's invite and user commands)
];

export function prosodyInstalled(build: ProsodyBuild = prosodyBuild()): boolean {
  return buildInstalled(build);
}

// ---------------------------------------------------------------------------
// Lua literals. Everything user-supplied goes through these, so no option value
// can break out of its string or inject config.

const LUA_KEYWORDS = new Set(
  ('and break do else elseif end false for function goto if in local nil not or ' +
    'repeat return then true until while').split(' '),
);

function luaName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || LUA_KEYWORDS.has(name)) {
    throw new TypeError(`Not a valid Prosody option name: ${JSON.stringify(name)}`);
  }
  return name;
}

function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte === 0x22 || byte === 0x5c) out += '\\' + String.fromCharCode(byte);
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    // Three digits always, so a following digit cannot extend the escape.
    else out += '\\' + String(byte).padStart(3, '0');
  }
  return out + '"';
}

function luaValue(v: unknown): string {
  if (typeof v === 'string') return luaString(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`Cannot write ${v} to the Prosody config`);
    return String(v);
  }
  if (Array.isArray(v)) return `{ ${v.map(luaValue).join(', ')} }`;
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const fields = Object.entries(v).map(([k, x]) => `[${luaString(k)}] = ${luaValue(x)}`);
    return `{ ${fields.join(', ')} }`;
  }
  throw new TypeError(`Cannot write ${String(v)} to the Prosody config`);
}

function luaOptions(options: Record<string, unknown>, indent = ''): string[] {
  return Object.entries(options).map(([k, v]) => `${indent}${luaName(k)} = ${luaValue(v)}`);
}

// ---------------------------------------------------------------------------
// Never leave a Prosody behind. Each running child registers a synchronous,
// best-effort cleanup that runs if Node exits without stop() having been called.

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
  // On these signals Node's default is to die *without* emitting 'exit'. If
  // someone else handles the signal, they decide when to exit and 'exit' covers
  // us; otherwise clean up and re-raise so Node still dies the default way.
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

export class PortInUseError extends Error {
  constructor(readonly port: number, message: string) {
    super(message);
  }
}

interface Settings {
  domain: string;
  admins: string[];
  components: { domain: string; secret: string; modules?: string[] }[];
  hostModules: string[];
  hostOptions: Record<string, LuaOption>;
  extraHosts: { domain: string; modules?: string[]; options?: Record<string, LuaOption> }[];
  globalModules: string[];
  pluginPaths: string[];
  startTimeoutMs: number;
  build: ProsodyBuild;
  fastLogins: boolean;
}

export class LocalProsody implements LocalXmppServer {
  readonly kind = 'prosody' as const;
  readonly domain: string;
  readonly dir: string;
  readonly configPath: string;
  readonly logPath: string;
  readonly c2sPort: number;
  readonly componentPort: number;
  /** Which Prosody runs (0.12 or 13). */
  readonly build: ProsodyBuild;

  readonly #settings: Settings;
  readonly #ownsDir: boolean;
  #child: ChildProcess | undefined;
  #exit: { code: number | null; signal: string | null } | undefined;
  #exited: Promise<void> = Promise.resolve();
  #lastPid: number | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(settings: Settings, dir: string, ownsDir: boolean, c2sPort: number, componentPort: number) {
    this.#settings = settings;
    this.#ownsDir = ownsDir;
    this.domain = settings.domain;
    this.dir = dir;
    this.configPath = path.join(dir, 'prosody.cfg.lua');
    this.logPath = path.join(dir, 'prosody.log');
    this.c2sPort = c2sPort;
    this.componentPort = componentPort;
    this.build = settings.build;
  }

  static async start(opts: LocalProsodyOptions = {}): Promise<LocalProsody> {
    const build = opts.build ?? prosodyBuild();
    if (!prosodyInstalled(build)) throw new ProsodyNotInstalledError(build);
    const settings: Settings = {
      build,
      fastLogins: opts.fastLogins ?? true,
      domain: opts.domain ?? 'localhost',
      admins: opts.admins ?? [],
      components: opts.components ?? [],
      hostModules: opts.hostModules ?? [],
      hostOptions: opts.hostOptions ?? {},
      extraHosts: opts.extraHosts ?? [],
      globalModules: opts.globalModules ?? [],
      pluginPaths: (opts.pluginPaths ?? []).map((p) => path.resolve(p)),
      startTimeoutMs: opts.startTimeoutMs ?? 15000,
    };
    const ownsDir = opts.dir === undefined;
    const dir = opts.dir === undefined
      ? await fsp.mkdtemp(path.join(os.tmpdir(), 'xmpp-invites-prosody-'))
      : path.resolve(opts.dir);

    // A port picked by freePorts() can be taken by someone else before Prosody
    // binds it; then pick again, but only if we chose the port ourselves.
    for (let attempt = 1; ; attempt++) {
      const [c2s, component] = await freePorts(2, HOST);
      const server = new LocalProsody(
        settings, dir, ownsDir, opts.c2sPort ?? c2s, opts.componentPort ?? component,
      );
      try {
        await server.#launch();
        return server;
      } catch (err) {
        const retry = err instanceof PortInUseError && attempt < 3 &&
          err.port !== opts.c2sPort && err.port !== opts.componentPort;
        if (retry) {
          await server.#halt();
          continue;
        }
        await server.stop();
        throw err;
      }
    }
  }

  /** The build's version, as PROSODY_VERSION names it. */
  get version(): string {
    return this.build.version;
  }

  /** PID of the running Prosody; undefined when stopped or exited. */
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
    // The password is visible in `ps` for a moment; acceptable for a loopback test server.
    await this.#prosodyctl('register', username, host, password);
  }

  /** Delete an account; rejects if it does not exist. */
  async unregister(username: string, host = this.domain): Promise<void> {
    await this.#prosodyctl('unregister', username, host);
  }

  /**
   * A user's file in a store of Prosody's internal storage, read directly (much faster
   * than prosodyctl): DATA/<host>/<store>/<user>.dat, names escaped like util/datamanager.
   * Prosody stores nodeprepped names; NFKC + lower case matches that for realistic input.
   */
  #userFile(store: string, username: string, host: string): string {
    const norm = (s: string) => datamanagerEncode(s.normalize('NFKC').toLowerCase());
    return path.join(this.dir, 'data', norm(host), store, `${norm(username)}.dat`);
  }

  async userExists(username: string, host = this.domain): Promise<boolean> {
    return fsp.access(this.#userFile('accounts', username, host)).then(() => true, () => false);
  }

  /**
   * The roles Prosody keeps for an account, primary first: 13's account_roles
   * (primary `_default`, else prosody:registered, then secondary roles), 0.12's
   * role set. Read from the store files, as userExists() does.
   */
  async roles(username: string, host = this.domain): Promise<string[]> {
    const store = this.build.version === '13' ? 'account_roles' : 'roles';
    const text = await fsp.readFile(this.#userFile(store, username, host), 'utf8').catch(() => '');
    const flags = [...text.matchAll(/\["([^"]+)"\]\s*=\s*true/g)].map((m) => m[1]!);
    if (this.build.version === '0.12') return flags;
    const primary = /\["_default"\]\s*=\s*"([^"]+)"/.exec(text)?.[1] ?? 'prosody:registered';
    return [primary, ...flags.filter((f) => f !== primary)];
  }

  /** An admin account invite from Prosody's own mod_invites (loaded on `host`), as its documentation makes one: the URI. */
  async nativeAdminInvite(host: string): Promise<string> {
    const args = this.build.version === '0.12'
      ? ['mod_invites', 'generate', host, '--admin']
      : ['shell', 'invite', 'create_account', host, '--role', 'prosody:admin'];
    const { stdout } = await execFileAsync(this.build.prosodyctl, ['--config', this.configPath, ...args], { timeout: 15000 });
    const uri = /xmpp:\S+/.exec(stdout)?.[0];
    if (!uri) throw new Error(`prosodyctl ${args.join(' ')} printed no invite: ${stdout}`);
    return uri;
  }

  /** The stored credentials of an account (internal storage), to tell whether its password changed; undefined when absent. */
  async accountRecord(username: string, host = this.domain): Promise<string | undefined> {
    return fsp.readFile(this.#userFile('accounts', username, host), 'utf8').catch(() => undefined);
  }

  readLog(): Promise<string> {
    return readLog(this.logPath);
  }

  logTail(lines = 40): Promise<string> {
    return logTail(this.logPath, lines);
  }

  /** Stop Prosody, keep its log if PROSODY_KEEP_LOGS is set, remove our temp dir. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#halt();
      keepLog(this.logPath, `prosody-${this.domain}`, this.#lastPid);
      if (this.#ownsDir) await fsp.rm(this.dir, { recursive: true, force: true });
    })();
    return this.#stopping;
  }

  /** Stop and start again with the same dir, data and ports. */
  async restart(): Promise<void> {
    if (this.#stopping) throw new Error('LocalProsody.restart(): already stopped');
    await this.#halt();
    try {
      await this.#launch();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async #prosodyctl(command: string, username: string, host: string, ...rest: string[]): Promise<void> {
    try {
      await execFileAsync(this.build.prosodyctl, ['--config', this.configPath, command, username, host, ...rest], {
        timeout: 15000,
      });
    } catch (err) {
      // Not err.message: it repeats the command line, password included.
      const { stdout, stderr, code } = err as { stdout?: string; stderr?: string; code?: unknown };
      const output = `${stderr ?? ''}\n${stdout ?? ''}`.trim() || `exit code ${String(code)}`;
      throw new Error(`prosodyctl ${command} ${username}@${host} failed: ${output}`);
    }
  }

  #renderConfig(): string {
    const s = this.#settings;
    const d = this.dir;
    const debug = process.env.PROSODY_DEBUG === '1';
    const pluginPaths = [...s.pluginPaths, ...s.build.moduleDirs];
    const lines = [
      '-- Generated by src/server/prosody/local-prosody.ts on every start; edits are lost.',
      // Only matters when we are root (containers, CI); Prosody refuses root otherwise.
      'run_as_root = true',
      'daemonize = false',
      // Everything Prosody writes (accounts, rosters, its pid file and sockets) is the owner's alone.
      'umask = "077"',
      `data_path = ${luaString(path.join(d, 'data'))}`,
      // An empty dir, so Prosody does not complain about /etc/prosody/certs.
      `certificates = ${luaString(path.join(d, 'certs'))}`,
      `log = { { levels = { min = ${luaString(debug ? 'debug' : 'info')} }, to = "file", filename = ${luaString(this.logPath)} } }`,
      `plugin_paths = ${luaValue(pluginPaths)}`,
      '',
      `interfaces = { ${luaString(HOST)} }`,
      `c2s_ports = { ${this.c2sPort} }`,
      `component_interfaces = { ${luaString(HOST)} }`,
      `component_ports = { ${this.componentPort} }`,
      'http_ports = {}',
      'https_ports = {}',
      // No certificates, so plain text on loopback.
      'c2s_require_encryption = false',
      'allow_unencrypted_plain_auth = true',
      // userExists() reads the files of this storage.
      'authentication = "internal_hashed"',
      'storage = "internal"',
      ...this.#loginOptions(),
      `admins = ${luaValue(s.admins)}`,
      `modules_enabled = ${luaValue([...DEFAULT_MODULES, ...s.globalModules])}`,
      'modules_disabled = { "s2s", "tls" }',
      '',
      // Global options must come before the first host section.
      `VirtualHost ${luaString(s.domain)}`,
      ...(s.hostModules.length ? [`  modules_enabled = ${luaValue(s.hostModules)}`] : []),
      ...luaOptions(s.hostOptions, '  '),
    ];
    for (const h of s.extraHosts) {
      lines.push('', `VirtualHost ${luaString(h.domain)}`);
      if (h.modules?.length) lines.push(`  modules_enabled = ${luaValue(h.modules)}`);
      lines.push(...luaOptions(h.options ?? {}, '  '));
    }
    for (const c of s.components) {
      lines.push('', `Component ${luaString(c.domain)}`, `  component_secret = ${luaString(c.secret)}`);
      if (c.modules?.length) lines.push(`  modules_enabled = ${luaValue(c.modules)}`);
    }
    return lines.join('\n') + '\n';
  }

  // xmpp.js computes SCRAM's PBKDF2 in plain JavaScript: Prosody's default of
  // 10000 rounds costs ~0.8 s per login, 13's minimum of 4096 ~0.22 s.
  #loginOptions(): string[] {
    if (!this.#settings.fastLogins) return [];
    // Applies to accounts created from now on. 13 refuses fewer than 4096 (and
    // xmpp.js will not send PLAIN without TLS), so its logins stay ~0.2 s.
    return [`default_iteration_count = ${this.build.version === '0.12' ? SCRAM_ITERATIONS : 4096}`];
  }

  async #launch(): Promise<void> {
    const config = this.#renderConfig(); // throws on bad options before anything runs
    // The config holds the component secret; data holds accounts: the owner's alone.
    for (const sub of ['', 'data', 'certs']) ensurePrivateDir(path.join(this.dir, sub));
    await fsp.writeFile(this.configPath, config, { mode: PRIVATE_FILE });
    await fsp.chmod(this.configPath, PRIVATE_FILE); // an older file keeps its mode otherwise

    // Prosody's own stdout/stderr (config errors, Lua tracebacks) go to the same
    // log file; appending to a file can never block the child the way a full pipe can.
    const logOffset = await fsp.stat(this.logPath).then((st) => st.size, () => 0);
    const logFd = fs.openSync(this.logPath, 'a', PRIVATE_FILE);
    fs.fchmodSync(logFd, PRIVATE_FILE);
    let child: ChildProcess;
    // Prosody 13.0.1 never applies its `umask` option (only prosodyctl does): it
    // inherits ours, set for the (synchronous) fork only.
    const umask = process.umask(0o077);
    try {
      child = spawn(this.build.prosody, ['--config', this.configPath, '-F'], {
        stdio: ['ignore', logFd, logFd],
        // Own session: a Ctrl-C in the terminal reaches only Node, which can then
        // log its clients out before stopping Prosody (the exit hooks back this up).
        detached: true,
      });
    } finally {
      process.umask(umask);
      fs.closeSync(logFd);
    }
    this.#child = child;
    this.#exit = undefined;
    this.#lastPid = child.pid;
    this.#exited = watchExit(child, (exit) => { this.#exit = exit; });
    // Do not keep Node alive just for Prosody; the exit hooks kill it when Node goes.
    child.unref();

    const { dir, logPath, domain } = this;
    const cleanup = () => {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
      keepLog(logPath, `prosody-${domain}`, child.pid);
      if (this.#ownsDir) fs.rmSync(dir, { recursive: true, force: true });
    };
    emergencyCleanups.add(cleanup);
    void this.#exited.then(() => emergencyCleanups.delete(cleanup));
    installExitHooks();

    await this.#waitUntilReady(logOffset);
  }

  async #waitUntilReady(logOffset: number): Promise<void> {
    const deadline = Date.now() + this.#settings.startTimeoutMs;
    const services: [string, number][] = [['c2s', this.c2sPort]];
    if (this.#settings.components.length) services.push(['component', this.componentPort]);

    const failure = async (why: string) => {
      await this.#halt();
      return `Prosody failed to start: ${why}\n--- ${this.logPath} (last lines) ---\n${await this.logTail(30)}`;
    };

    for (;;) {
      if (this.#exit) {
        const { code, signal } = this.#exit;
        throw new Error(await failure(`process exited (code ${code}, signal ${signal})`));
      }
      const log = (await fsp.readFile(this.logPath).catch(() => Buffer.alloc(0))).subarray(logOffset).toString();
      // Prosody logs a failed bind and keeps running, so the log is the only
      // reliable signal; a TCP probe alone could reach whoever owns the port.
      const busy = /Failed to open server port (\d+)/.exec(log);
      if (busy) throw new PortInUseError(Number(busy[1]), await failure(`port ${busy[1]} is already in use`));
      const activated = services.every(([name, port]) => log.includes(`Activated service '${name}' on [${HOST}]:${port}`));
      if (activated && (await Promise.all(services.map(([, port]) => acceptsTcp(port, HOST)))).every(Boolean)) return;
      if (Date.now() > deadline) {
        const ports = services.map(([, p]) => p).join(', ');
        throw new Error(await failure(`ports ${ports} not open after ${this.#settings.startTimeoutMs} ms`));
      }
      await sleep(50);
    }
  }

  /** Stop the process (SIGTERM, SIGKILL after 5 s) but keep the dir. */
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
