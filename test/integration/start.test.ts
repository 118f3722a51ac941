// `npm start` with nothing configured, the CLI beside it, and signals: real
// processes, as an admin would run them.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { runScript, spawnScript } from '../helpers/scripts.js';
import { registerWith } from '../helpers/ibr.js';
import { connectUser } from '../helpers/xmpp-user.js';
import { loadClients } from '../../src/web/clients.js';

/** Every service started here, so a failed test leaves none running (it would keep mocha alive). */
const started = new Set<Service>();

class Service {
  out = '';
  err = '';
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  constructor(cwd: string) {
    this.proc = spawnScript('src/main.ts', [], { cwd });
    started.add(this);
    this.proc.stdout!.on('data', (d) => (this.out += d));
    this.proc.stderr!.on('data', (d) => (this.err += d));
    this.exited = new Promise((r) => this.proc.on('exit', (code) => r(code)));
  }
  async waitFor(re: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = this.out.match(re);
      if (m) return m;
      if (Date.now() > end || this.proc.exitCode !== null) throw new Error(`no ${re} in output:\n${this.out}\n${this.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function cli(cwd: string, ...args: string[]) {
  return runScript('src/cli.ts', args, { cwd });
}

describe('npm start with nothing configured (real processes)', function () {
  this.timeout(90_000);
  let cwd: string;
  let service: Service | undefined;

  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'invites-start-'));
  });
  after(async () => {
    // SIGTERM first: a service stops its own Prosody; then SIGKILL whatever is left.
    for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGTERM');
    await Promise.race([Promise.all([...started].map((s) => s.exited)), new Promise((r) => setTimeout(r, 8000))]);
    for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
    await Promise.all([...started].map((s) => s.exited));
    await rm(cwd, { recursive: true, force: true });
  });

  let firstAdminToken = '';

  it('runs a local Prosody, prints an admin invite, and the bot answers "invite"', async () => {
    service = new Service(cwd);
    const [, port] = await service.waitFor(/running on 127\.0\.0\.1:(\d+)/);
    // The command as printed: Debian's prosodyctl for 0.12, the unpacked 13's own for 13.
    const [, prosodyctl, config] = await service.waitFor(/(\S*prosodyctl) --config (\S+) register/);
    const [admin] = await service.waitFor(/^xmpp:localhost\?register;preauth=[A-Za-z0-9_-]{24}$/m);
    firstAdminToken = admin.split('preauth=')[1]!;
    expect(service.out).to.include('An invite for the first administrator account');
    // Its web page is served on loopback with nothing configured.
    const [, page] = await service.waitFor(/Or open it on the web: (http:\/\/127\.0\.0\.1:\d+\/invite\/\S+)/);
    expect(page).to.include(firstAdminToken);
    expect((await fetch(page!)).status).to.equal(200);
    expect(service.err, 'the token is shown to the operator, never logged').to.not.include(firstAdminToken);
    // The apps it names are those of the app list that open invites (each once); everyone else is sent to the page.
    const opening = [...new Set(loadClients().platforms.flatMap((p) => p.clients.filter((c) => c.opensInvites).map((c) => c.name)))];
    const [, named] = await service.waitFor(/^Open it in an app that opens invites \((.+)\); with any other app, open the web page above, register there, then log in with the app\.$/m);
    expect(named!.split(', ')).to.deep.equal(opening);
    const others = loadClients().platforms.flatMap((p) => p.clients).filter((c) => !c.opensInvites && !opening.includes(c.name));
    for (const c of others) expect(named, `${c.name} does not open invites`).to.not.include(c.name);
    expect(service.out).to.not.match(/register on 127\.0\.0\.1/);

    await promisify(execFile)(prosodyctl!, ['--config', config!, 'register', 'alice', 'localhost', 'alice-pass']);
    const alice = await connectUser(`xmpp://127.0.0.1:${port}`, 'alice@localhost', 'alice-pass');
    try {
      const reply = await alice.ask('invitebot@localhost', 'invite');
      expect(reply).to.match(/^xmpp:alice@localhost\?roster;preauth=[A-Za-z0-9_-]{24}$/m);
    } finally {
      await alice.stop();
    }
  });

  it('the CLI asks the running service (no second writer)', async () => {
    expect(existsSync(join(cwd, 'data/control.sock'))).to.equal(true);
    const created = await cli(cwd, 'create', 'account', '--username', 'dora');
    expect(created.code, created.stderr).to.equal(0);
    expect(created.stdout).to.match(/^xmpp:dora@localhost\?register;preauth=/m);
    const listed = await cli(cwd, 'list');
    expect(listed.stdout).to.include('user dora').and.include('roles admin').and.include('alice@localhost');
    // The service wrote it: it is on disk already, in the store's journal until the next compaction.
    const onDisk = await Promise.all(['invites.json', 'invites.json.journal'].map((f) => readFile(join(cwd, 'data', f), 'utf8').catch(() => '')));
    expect(onDisk.join('')).to.include('"username":"dora"');
    const bad = await cli(cwd, 'create', 'account', '--uses', 'many');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/^--uses takes a whole number\nUsage:/);
  });

  it('SIGTERM closes everything, flushes the store and exits 0', async () => {
    // Prosody's PID, from the process table: it writes no pid file (we keep our child's).
    const pid = Number((await promisify(execFile)('pgrep', ['-f', join(cwd, 'data/local-prosody/prosody.cfg.lua')])).stdout.trim().split('\n')[0]);
    expect(() => process.kill(pid, 0), 'Prosody running').to.not.throw();
    service!.proc.kill('SIGTERM');
    expect(await service!.exited).to.equal(0);
    expect(await readFile(join(cwd, 'data/invites.json.lock'), 'utf8'), 'the lock let go (its file stays, empty)').to.equal('');
    expect(() => process.kill(pid, 0), 'Prosody stopped').to.throw();
    const store = JSON.parse(await readFile(join(cwd, 'data/invites.json'), 'utf8'));
    expect(store.invites.map((i: { username?: string }) => i.username)).to.include('dora');
  });

  it('with the service stopped, the CLI takes the lock and works on the file', async () => {
    const listed = await cli(cwd, 'list');
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.stdout).to.include('user dora');
    expect(await readFile(join(cwd, 'data/invites.json.lock'), 'utf8')).to.equal('');
  });

  it('the CLI refuses when a live process holds the lock but does not answer', async () => {
    // A holder of the kernel lock that answers nothing on the control socket: flock(1) from util-linux.
    const lockFile = join(cwd, 'data/invites.json.lock');
    await writeFile(lockFile, '4242');
    // Its own process group: the sleep it runs inherits the locked descriptor, and both must go.
    const holder = spawn('flock', ['--exclusive', lockFile, 'sleep', '30'], { stdio: 'ignore', detached: true });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const r = await cli(cwd, 'list');
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/in use by process 4242 but it does not answer/);
    } finally {
      process.kill(-holder.pid!, 'SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    // A lock file that names a live process but is not locked (a reused PID, PID 1) is no lock at all.
    await writeFile(lockFile, '1');
    expect((await cli(cwd, 'list')).code).to.equal(0);
  });

  it('a second start keeps data, replaces the first-run invite, and SIGINT exits 0', async () => {
    service = new Service(cwd);
    const [admin] = await service.waitFor(/^xmpp:localhost\?register;preauth=[A-Za-z0-9_-]{24}$/m);
    expect(admin).to.not.include(firstAdminToken);
    const listed = await cli(cwd, 'list');
    expect(listed.stdout.match(/roles admin, first-run/g)).to.have.length(1);
    expect(listed.stdout).to.include('user dora');
    service.proc.kill('SIGINT');
    expect(await service.exited).to.equal(0);
  });

  it('the printed invite works end to end: in-band registration makes the first admin', async () => {
    service = new Service(cwd);
    const [, port] = await service.waitFor(/running on 127\.0\.0\.1:(\d+)/);
    const [admin] = await service.waitFor(/^xmpp:localhost\?register;preauth=[A-Za-z0-9_-]{24}$/m);
    const token = admin.split('preauth=')[1]!;
    await registerWith(`xmpp://127.0.0.1:${port}`, 'localhost', { token, username: 'root', password: 'root-pass-1' });
    const root = await connectUser(`xmpp://127.0.0.1:${port}`, 'root@localhost', 'root-pass-1');
    try {
      expect(await root.ask('invitebot@localhost', 'invite account')).to.match(/^Account invite: it creates an account/);
    } finally {
      await root.stop();
    }
    service.proc.kill('SIGTERM');
    expect(await service.exited).to.equal(0);
    // There is an admin now: the next start prints no first-run invite.
    service = new Service(cwd);
    await service.waitFor(/The invite bot is/);
    expect(service.out).to.not.include('An invite for the first administrator account');
    service.proc.kill('SIGTERM');
    expect(await service.exited).to.equal(0);
  });
});
