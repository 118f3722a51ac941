// Finding 1 of the security review: with nothing configured, the generated
// Prosody config (which holds the component secret) was 0644 in a 0755 data/,
// so any local user could connect as the component and reset any password.
// Now: every file npm start and its Prosody write is 0600 in folders of 0700,
// and a secret file others can read stops the service.
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { freePorts } from '../../src/server/free-port.js';
import { runScript } from '../helpers/scripts.js';
import { ServiceProcess } from '../helpers/service-process.js';

/** Every path below `dir` whose mode lets anyone but the owner in, with that mode. */
async function looseModes(dir: string): Promise<string[]> {
  const out: string[] = [];
  const st = await lstat(dir);
  if (st.mode & 0o077) out.push(`${dir} ${(st.mode & 0o777).toString(8)}`);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await looseModes(p)));
    else {
      const m = (await lstat(p)).mode;
      if (m & 0o077) out.push(`${p} ${(m & 0o777).toString(8)}`);
    }
  }
  return out;
}

describe('abuse: files that hold secrets or invites (npm start, real Prosody)', function () {
  this.timeout(90_000);
  let cwd: string;
  let service: ServiceProcess | undefined;
  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'invites-modes-'));
    // As git checks it out: data/ exists, 0755, with .gitkeep.
    await mkdir(join(cwd, 'data'), { mode: 0o755 });
    await chmod(join(cwd, 'data'), 0o755);
    await writeFile(join(cwd, 'data/.gitkeep'), '', { mode: 0o644 });
  });
  after(async () => {
    await service?.stop();
    await rm(cwd, { recursive: true, force: true });
  });

  it('after npm start, everything under data/ is 0600 in folders of 0700 (config with the secret, store, lock, socket, Prosody\'s files)', async () => {
    const [port] = await freePorts(1);
    service = new ServiceProcess(cwd, { HTTP_PORT: String(port) });
    await service.waitFor(/An invite for the first administrator account/);
    const loose = await looseModes(join(cwd, 'data'));
    // .gitkeep is the checkout's own, empty, and holds nothing.
    expect(loose.filter((l) => !l.includes('.gitkeep'))).to.deep.equal([]);
    const names = (await readdir(join(cwd, 'data'))).sort();
    expect(names).to.include.members(['local-component.secret', 'local-bot.secret', 'invites.json.lock', 'control.sock', 'local-prosody']);
    const prosodyFiles = await readdir(join(cwd, 'data/local-prosody'));
    expect(prosodyFiles).to.include.members(['prosody.cfg.lua', 'prosody.log', 'data']);
    await service.stop();
  });

  it('refuses to start when the component secret file can be read by others, and says how to fix it', async () => {
    await chmod(join(cwd, 'data/local-component.secret'), 0o644);
    const r = await runScript('src/main.ts', [], { cwd });
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('data/local-component.secret holds the component secret but other users can read it (mode 644)');
    expect(r.stderr).to.include('chmod 600 data/local-component.secret');
    await chmod(join(cwd, 'data/local-component.secret'), 0o600);
  });

  it('refuses a .env readable by others when it is where COMPONENT_SECRET comes from', async () => {
    const env = join(cwd, '.env');
    await writeFile(env, 'XMPP_SERVICE=xmpp://127.0.0.1:1\nBOT_JID=bot@example.org\nBOT_PASSWORD=x\nCOMPONENT_SECRET=s3cret\n', { mode: 0o640 });
    await chmod(env, 0o640);
    const r = await runScript('src/main.ts', [], { cwd });
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/\.env holds COMPONENT_SECRET and BOT_PASSWORD but other users can read it \(mode 640\)/);
    // The CLI reads the same file and refuses it the same way.
    const cli = await runScript('src/cli.ts', ['list'], { cwd });
    expect(cli.code).to.equal(2);
    expect(cli.stderr).to.include('chmod 600 .env');
    await rm(env);
  });
});
