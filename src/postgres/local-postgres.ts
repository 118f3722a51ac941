// A private, throwaway PostgreSQL for the tests and benchmarks of the PostgreSQL
// store, started the way LocalProsody starts Prosody: our own child process (the
// postmaster itself, stopped by its PID), listening on 127.0.0.1 and on a unix
// socket inside its own directory, with data and log in that directory, never
// outliving the Node process that started it.
//
// initdb, pg_ctl and postgres refuse to run as root. As root (containers, CI) the
// server runs as the `postgres` system user that Debian's package creates, on a
// directory that user owns; as anyone else it runs as ourselves.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { keepLog, logTail, readLog, watchExit } from '../server-process.js';
import { freePorts } from '../server/free-port.js';

const execFileAsync = promisify(execFile);

const HOST = '127.0.0.1';
/** The superuser initdb creates; every URL logs in as it. */
const SUPERUSER = 'postgres';
const INSTALL_HINT = 'sudo bash scripts/setup.sh (or apt-get install postgresql), or set POSTGRES_BIN_DIR';

// ---------------------------------------------------------------------------
// Which PostgreSQL: POSTGRES_BIN_DIR, else the highest /usr/lib/postgresql/<version>/bin.

const DEBIAN_ROOT = '/usr/lib/postgresql';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The directory holding initdb and postgres; undefined when none is installed. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env.POSTGRES_BIN_DIR?.trim();
  if (given) return path.resolve(given);
  let versions: string[];
  try {
    versions = fs.readdirSync(DEBIAN_ROOT);
  } catch {
    return undefined;
  }
  const found = versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v) && isExecutable(path.join(DEBIAN_ROOT, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return found.length ? path.join(DEBIAN_ROOT, found[0]!, 'bin') : undefined;
}

export function postgresInstalled(binDir = postgresBinDir()): boolean {
  return binDir !== undefined && ['postgres', 'initdb'].every((b) => isExecutable(path.join(binDir, b)));
}

export class PostgresNotInstalledError extends Error {
  constructor(binDir: string | undefined) {
    super(
      binDir
        ? `PostgreSQL is not installed in ${binDir} (no postgres or initdb there): run ${INSTALL_HINT}`
        : `PostgreSQL is not installed (no ${DEBIAN_ROOT}/<version>/bin/postgres): run ${INSTALL_HINT}`,
    );
    this.name = 'PostgresNotInstalledError';
  }
}

// ---------------------------------------------------------------------------
// Who runs it. As root: the `postgres` system user, switched to by setpriv (which
// execs, so the PID we hold is the server's own) with a parent-death signal, so
// the kernel stops the server even when Node dies by SIGKILL. (The signal follows
// the thread that spawned it: start LocalPostgres from the main thread, not a Worker.)

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

function lookUpUser(name: string): RunAs {
  let entry: string;
  try {
    entry = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      `PostgreSQL refuses to run as root and there is no user ${JSON.stringify(name)} to run it as: run ${INSTALL_HINT}`,
    );
  }
  const [, , uid, gid] = entry.split(':');
  return { uid: Number(uid), gid: Number(gid), name };
}

let setprivPath: string | null | undefined;
function setpriv(): string | undefined {
  if (setprivPath === undefined) {
    setprivPath = ['/usr/bin/setpriv', '/bin/setpriv'].find(isExecutable) ?? null;
  }
  return setprivPath ?? undefined;
}

/** The command and spawn options that run `file args` as `runAs`, dying with us if `deathSignal`. */
function asUser(
  runAs: RunAs | undefined,
  file: string,
  args: string[],
  deathSignal?: NodeJS.Signals,
): { file: string; args: string[]; ids: { uid?: number; gid?: number } } {
  const tool = setpriv();
  if (!tool) return { file, args, ids: runAs ? { uid: runAs.uid, gid: runAs.gid } : {} };
  const pre = runAs ? [`--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups'] : [];
  // setpriv sets the death signal after switching user (a uid change would clear it).
  if (deathSignal) pre.push(`--pdeathsig=${deathSignal}`);
  return { file: tool, args: [...pre, '--', file, ...args], ids: {} };
}

/** The environment of initdb and postgres: ours without PG* variables (PGPORT would change defaults), messages in English. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  env.LC_ALL = 'C';
  return env;
}

// ---------------------------------------------------------------------------
// Processes. Every postgres child calls setsid(), so a process group does not
// reach them: they are found by their parent PID in /proc.

function parentPid(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may contain spaces and parentheses.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' ? undefined : Number(ppid);
  } catch {
    return undefined;
  }
}

function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && parentPid(Number(entry)) === pid) out.push(Number(entry));
  }
  return out;
}

/** Running (not zombie) processes among `pids`. */
function living(pids: number[]): number[] {
  return pids.filter((p) => parentPid(p) !== undefined);
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * The SysV segment a postmaster killed with SIGKILL leaves behind (postgres
 * removes it only on a clean shutdown, or when it next starts on the same data).
 * Found in postmaster.pid, removed only if that postmaster created it.
 */
function removeLeftoverSegment(dataDir: string, postmasterPid: number): void {
  try {
    const lines = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    if (Number(lines[0]) !== postmasterPid) return;
    const shmid = lines[6]?.trim().split(/\s+/)[1];
    if (!shmid || !/^\d+$/.test(shmid)) return;
    const ours = fs.readFileSync('/proc/sysvipc/shm', 'utf8').split('\n').some((row) => {
      const f = row.trim().split(/\s+/);
      return f[1] === shmid && Number(f[4]) === postmasterPid;
    });
    if (ours) execFileSync('ipcrm', ['-m', shmid], { stdio: 'ignore' });
  } catch {
    // Best effort: at worst a few bytes of shared memory stay until reboot.
  }
}

// ---------------------------------------------------------------------------
// Never leave a server behind. The parent-death signal covers every way Node can
// die; on an ordinary exit this also removes our temp dirs. No signal handlers:
// LocalProsody's would then see another listener and leave the signal to us.

const emergencyCleanups = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const cleanup of emergencyCleanups) cleanup();
    emergencyCleanups.clear();
  });
}

// ---------------------------------------------------------------------------
// initdb runs once per process into a template (about 1.5 s); each server gets a copy (cp -a, a few hundred ms).

const templates = new Map<string, Promise<string>>();

function template(binDir: string, runAs: RunAs | undefined): Promise<string> {
  const key = `${binDir}\0${runAs?.uid ?? ''}`;
  let made = templates.get(key);
  if (!made) {
    made = makeTemplate(binDir, runAs);
    templates.set(key, made);
    made.catch(() => templates.delete(key));
  }
  return made;
}

async function makeTemplate(binDir: string, runAs: RunAs | undefined): Promise<string> {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'xmpp-invites-postgres-template-'));
  installExitHook();
  const cleanup = () => fs.rmSync(root, { recursive: true, force: true });
  emergencyCleanups.add(cleanup);
  if (runAs) await fsp.chown(root, runAs.uid, runAs.gid);
  const dataDir = path.join(root, 'data');
  // No password yet: it is set per server, over the unix socket, at start.
  const cmd = asUser(runAs, path.join(binDir, 'initdb'), [
    '-D', dataDir, '-U', SUPERUSER, '-E', 'UTF8', '--no-locale',
    '--auth-local=trust', '--auth-host=scram-sha-256', '--no-instructions',
    // Only an OS crash could lose unsynced files, and no test server outlives one.
    '--no-sync',
  ]);
  try {
    await execFileAsync(cmd.file, cmd.args, { ...cmd.ids, cwd: root, env: childEnv(), timeout: 60000 });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    cleanup();
    emergencyCleanups.delete(cleanup);
    const output = `${stdout ?? ''}${stderr ?? ''}`.trimEnd().split('\n').slice(-20).join('\n');
    throw new Error(`PostgreSQL initdb failed (${(err as Error).message.split('\n')[0]})\n--- initdb output (last lines) ---\n${output}`);
  }
  return dataDir;
}

// ---------------------------------------------------------------------------

export type PostgresSetting = string | number | boolean;

export interface LocalPostgresOptions {
  /**
   * Data (dir/data), socket (dir/run), log (dir/postgres.log) and password live here.
   * Default: a fresh temp dir, removed on stop. A given dir is kept (data persists); as
   * root it is handed to the postgres user.
   */
  dir?: string;
  /** Default: a free port on 127.0.0.1 (picked again if taken before the server binds it). */
  port?: number;
  /** The database `url` points to, created at start if missing. Default 'invites'. */
  database?: string;
  /**
   * Default true. false: fsync, synchronous_commit and full_page_writes off, for speed.
   * A process kill (kill9()) loses nothing either way; only an OS crash or power cut would.
   */
  fsync?: boolean;
  /** Further server settings (postgres -c NAME=VALUE), after ours, so they win. */
  settings?: Record<string, PostgresSetting>;
  /** Default 30000. */
  startTimeoutMs?: number;
  /** Fast shutdown (SIGINT) waits this long before SIGKILL. Default 10000. */
  stopTimeoutMs?: number;
  /** Default: postgresBinDir() (POSTGRES_BIN_DIR, else the highest /usr/lib/postgresql/<version>/bin). */
  binDir?: string;
  /** The system user that runs the server when we are root. Default 'postgres'; ignored when not root. */
  osUser?: string;
}

interface Settings {
  binDir: string;
  runAs: RunAs | undefined;
  database: string;
  fsync: boolean;
  extra: Record<string, PostgresSetting>;
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

class PortInUseError extends Error {
  constructor(readonly port: number, message: string) {
    super(message);
  }
}

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

function quoteIdent(name: string): string {
  if (!name || Buffer.byteLength(name) > 63 || name.includes('\0')) {
    throw new TypeError(`Not a usable PostgreSQL database name: ${JSON.stringify(name)}`);
  }
  return `"${name.replace(/"/g, '""')}"`;
}

let databaseCounter = 0;

export class LocalPostgres {
  readonly dir: string;
  /** PGDATA. */
  readonly dataDir: string;
  /** Holds the unix socket `.s.PGSQL.<port>`; usable as `host` by pg and psql. */
  readonly socketDir: string;
  /** The server's stderr: its log, with the PID of each line. */
  readonly logPath: string;
  readonly host = HOST;
  readonly port: number;
  readonly user = SUPERUSER;
  /** The superuser's password over TCP (the unix socket needs none). */
  readonly password: string;
  /** The database `url` points to. */
  readonly database: string;

  readonly #settings: Settings;
  readonly #ownsDir: boolean;
  #child: ChildProcess | undefined;
  #exit: { code: number | null; signal: string | null } | undefined;
  #exited: Promise<void> = Promise.resolve();
  #lastPid: number | undefined;
  #stopping: Promise<void> | undefined;
  /** Resolves once the processes of a SIGKILLed tree are gone and its shared memory removed. */
  #afterKill: Promise<void> = Promise.resolve();

  private constructor(settings: Settings, dir: string, ownsDir: boolean, port: number, password: string) {
    this.#settings = settings;
    this.#ownsDir = ownsDir;
    this.dir = dir;
    this.dataDir = path.join(dir, 'data');
    this.socketDir = path.join(dir, 'run');
    this.logPath = path.join(dir, 'postgres.log');
    this.port = port;
    this.password = password;
    this.database = settings.database;
  }

  static async start(opts: LocalPostgresOptions = {}): Promise<LocalPostgres> {
    const binDir = opts.binDir ? path.resolve(opts.binDir) : postgresBinDir();
    if (!binDir || !postgresInstalled(binDir)) throw new PostgresNotInstalledError(binDir);
    for (const name of Object.keys(opts.settings ?? {})) {
      if (!SETTING_NAME.test(name)) throw new TypeError(`Not a PostgreSQL setting name: ${JSON.stringify(name)}`);
    }
    const database = opts.database ?? 'invites';
    quoteIdent(database);
    const settings: Settings = {
      binDir,
      runAs: process.getuid?.() === 0 ? lookUpUser(opts.osUser ?? 'postgres') : undefined,
      database,
      fsync: opts.fsync ?? true,
      extra: opts.settings ?? {},
      startTimeoutMs: opts.startTimeoutMs ?? 30000,
      stopTimeoutMs: opts.stopTimeoutMs ?? 10000,
    };
    const ownsDir = opts.dir === undefined;
    const dir = opts.dir === undefined
      ? await fsp.mkdtemp(path.join(os.tmpdir(), 'xmpp-invites-postgres-'))
      : path.resolve(opts.dir);

    let server: LocalPostgres | undefined;
    try {
      const password = await LocalPostgres.#prepareDir(dir, settings);
      // A port picked by freePorts() can be taken before postgres binds it; then
      // pick again, but only if we chose the port ourselves.
      for (let attempt = 1; ; attempt++) {
        const port = opts.port ?? (await freePorts(1, HOST))[0]!;
        server = new LocalPostgres(settings, dir, ownsDir, port, password);
        try {
          await server.#launch();
          return server;
        } catch (err) {
          if (err instanceof PortInUseError && opts.port === undefined && attempt < 3) {
            await server.#halt();
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      if (server) await server.stop();
      else if (ownsDir) await fsp.rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Make dir ready to run: owned by the server's user, data initialised, a password chosen (kept in dir/password). */
  static async #prepareDir(dir: string, s: Settings): Promise<string> {
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    if (s.runAs) await fsp.chown(dir, s.runAs.uid, s.runAs.gid);
    const passwordFile = path.join(dir, 'password');
    let password = (await fsp.readFile(passwordFile, 'utf8').catch(() => '')).trim();
    if (!/^[0-9a-f]{32}$/.test(password)) {
      password = randomBytes(16).toString('hex');
      await fsp.writeFile(passwordFile, password + '\n', { mode: 0o600 });
    }
    const dataDir = path.join(dir, 'data');
    if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
      await fsp.rm(dataDir, { recursive: true, force: true });
      const source = await template(s.binDir, s.runAs);
      // -a keeps owner and modes (postgres insists on a 0700 data dir it owns).
      await execFileAsync('cp', ['-a', source, dataDir]);
    }
    const runDir = path.join(dir, 'run');
    await fsp.mkdir(runDir, { recursive: true, mode: 0o700 });
    if (s.runAs) await fsp.chown(runDir, s.runAs.uid, s.runAs.gid);
    return password;
  }

  /** PID of the postmaster; undefined when stopped or exited. */
  get pid(): number | undefined {
    return this.#exit ? undefined : this.#child?.pid;
  }

  /** The postmaster and every process it started (backends, checkpointer, ...), while it runs. */
  pids(): number[] {
    const pid = this.pid;
    return pid === undefined ? [] : [pid, ...childPids(pid)];
  }

  /** A postgresql:// URL (superuser, password, TCP on 127.0.0.1) of `database`. */
  urlFor(database: string): string {
    return `postgresql://${SUPERUSER}:${this.password}@${HOST}:${this.port}/${encodeURIComponent(database)}`;
  }

  /** The URL of `database` (created at start). */
  get url(): string {
    return this.urlFor(this.database);
  }

  /** Create a fresh, empty database (a generated name by default) and return its URL. */
  async createDatabase(name?: string): Promise<string> {
    const db = name ?? `db_${process.pid}_${++databaseCounter}_${randomBytes(3).toString('hex')}`;
    await this.#admin(async (client) => {
      await client.query(`CREATE DATABASE ${quoteIdent(db)}`);
    });
    return this.urlFor(db);
  }

  async dropDatabase(name: string): Promise<void> {
    await this.#admin(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    });
  }

  readLog(): Promise<string> {
    return readLog(this.logPath);
  }

  logTail(lines = 40): Promise<string> {
    return logTail(this.logPath, lines);
  }

  /** Stop PostgreSQL (fast shutdown), keep its log if PROSODY_KEEP_LOGS is set, remove our temp dir. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#halt();
      keepLog(this.logPath, `postgres-${this.port}`, this.#lastPid);
      if (this.#ownsDir) await fsp.rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
    })();
    return this.#stopping;
  }

  /**
   * A crash: SIGKILL to the postmaster and every process it started, at once;
   * resolves when all are gone. Data stays; restart() runs crash recovery.
   */
  async kill9(): Promise<void> {
    const child = this.#child;
    if (!child || this.#exit) return;
    this.#killTree(child.pid!);
    // The child is unref'd: a timer keeps Node alive until its exit is seen.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await this.#exited;
      await this.#afterKill;
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Stop (fast shutdown, or after kill9()) and start again with the same dir, data, port and password. */
  async restart(): Promise<void> {
    if (this.#stopping) throw new Error('LocalPostgres.restart(): already stopped');
    await this.#halt();
    try {
      await this.#launch();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Run `fn` with a superuser client on the unix socket, database postgres. */
  async #admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ host: this.socketDir, port: this.port, user: SUPERUSER, database: 'postgres' });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  }

  #serverArgs(): string[] {
    const s = this.#settings;
    const conf: Record<string, PostgresSetting> = {
      listen_addresses: HOST,
      port: this.port,
      unix_socket_directories: this.socketDir,
      // A test server: small, and no huge-page probing.
      shared_buffers: '16MB',
      huge_pages: 'off',
      ...(s.fsync ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
      ...s.extra,
    };
    const args = ['-D', this.dataDir];
    for (const [k, v] of Object.entries(conf)) {
      args.push('-c', `${k}=${typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v)}`);
    }
    return args;
  }

  async #launch(): Promise<void> {
    const s = this.#settings;
    const logOffset = await fsp.stat(this.logPath).then((st) => st.size, () => 0);
    // The server's stderr is its log; appending to a file never blocks it the way a full pipe can.
    const logFd = fs.openSync(this.logPath, 'a', 0o600);
    let child: ChildProcess;
    try {
      // SIGQUIT is an immediate shutdown: the postmaster stops its children and exits.
      const cmd = asUser(s.runAs, path.join(s.binDir, 'postgres'), this.#serverArgs(), 'SIGQUIT');
      child = spawn(cmd.file, cmd.args, {
        ...cmd.ids,
        cwd: this.dir,
        env: childEnv(),
        stdio: ['ignore', logFd, logFd],
        // Own session: a Ctrl-C in the terminal reaches only Node.
        detached: true,
      });
    } finally {
      fs.closeSync(logFd);
    }
    this.#child = child;
    this.#exit = undefined;
    this.#lastPid = child.pid;
    this.#exited = watchExit(child, (exit) => { this.#exit = exit; });
    // Do not keep Node alive just for PostgreSQL.
    child.unref();

    const { dir, dataDir, logPath, port } = this;
    const pid = child.pid;
    const cleanup = () => {
      if (pid !== undefined) {
        const kids = childPids(pid);
        killQuietly(pid, 'SIGKILL');
        for (const k of kids) killQuietly(k, 'SIGKILL');
        removeLeftoverSegment(dataDir, pid);
      }
      keepLog(logPath, `postgres-${port}`, pid);
      if (this.#ownsDir) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    };
    emergencyCleanups.add(cleanup);
    void this.#exited.then(() => emergencyCleanups.delete(cleanup));
    installExitHook();

    await this.#waitUntilReady(logOffset);
  }

  async #waitUntilReady(logOffset: number): Promise<void> {
    const s = this.#settings;
    const deadline = Date.now() + s.startTimeoutMs;
    const failure = async (why: string) => {
      await this.#halt();
      return `PostgreSQL failed to start: ${why}\n--- ${this.logPath} (last lines) ---\n${await this.logTail(30)}`;
    };
    let lastError = 'no connection yet';
    for (;;) {
      if (this.#exit) {
        const { code, signal } = this.#exit;
        const log = (await fsp.readFile(this.logPath).catch(() => Buffer.alloc(0))).subarray(logOffset).toString();
        if (/could not bind IPv4 address "[^"]*": Address already in use/.test(log)) {
          throw new PortInUseError(this.port, await failure(`port ${this.port} is already in use`));
        }
        throw new Error(await failure(`process exited (code ${code}, signal ${signal})`));
      }
      try {
        await this.#admin(async (client) => {
          // Utility statements take no parameters; the password is 32 hex digits.
          await client.query(`ALTER ROLE ${SUPERUSER} PASSWORD '${this.password}'`);
          const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [this.database]);
          if (!rowCount) await client.query(`CREATE DATABASE ${quoteIdent(this.database)}`);
        });
        break;
      } catch (err) {
        const e = err as { code?: string; message?: string };
        lastError = `${e.code ?? ''} ${e.message ?? String(err)}`.trim();
        // Not yet listening, or "the database system is starting up" (57P03): wait.
        const transient = ['ENOENT', 'ECONNREFUSED', '57P03'].includes(e.code ?? '');
        if (!transient && !this.#exit) throw new Error(await failure(lastError));
      }
      if (Date.now() > deadline) {
        throw new Error(await failure(`no connection after ${s.startTimeoutMs} ms (${lastError})`));
      }
      await sleep(20);
    }
    // The URL handed out must work as given: TCP, password.
    const client = new pg.Client({ connectionString: this.url });
    try {
      await client.connect();
      await client.query('SELECT 1');
    } catch (err) {
      throw new Error(await failure(`started, but ${this.url.replace(this.password, '***')} refused: ${(err as Error).message}`));
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** SIGKILL the postmaster and the processes it started. */
  #killTree(pid: number): void {
    const kids = childPids(pid);
    killQuietly(pid, 'SIGKILL');
    for (const k of kids) killQuietly(k, 'SIGKILL');
    // Children it forked between our look and its death.
    for (const k of childPids(pid)) killQuietly(k, 'SIGKILL');
    this.#afterKill = this.#exited.then(async () => {
      for (let i = 0; i < 200 && living(kids).length; i++) await sleep(10);
      removeLeftoverSegment(this.dataDir, pid);
    });
  }

  /** Stop the server (fast shutdown: SIGINT; SIGKILL to all of it after stopTimeoutMs) but keep the dir. */
  async #halt(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    if (!this.#exit) {
      // SIGTERM would be a "smart" shutdown, waiting for every client to leave.
      child.kill('SIGINT');
      const timer = setTimeout(() => this.#killTree(child.pid!), this.#settings.stopTimeoutMs);
      await this.#exited;
      clearTimeout(timer);
    }
    await this.#afterKill;
    this.#child = undefined;
  }
}
