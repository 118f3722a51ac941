// The private ejabberd of the tests (src/server/ejabberd/local-ejabberd.ts), a real child
// process of the build EJABBERD_VERSION names (23.01 by default; test/run.mts runs both).
// Never skipped: a missing build fails with the install hint.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Element } from '@xmpp/xml';
import { Component } from '../../src/component/component.js';
import { ejabberdBuild, ejabberdInstalled } from '../../src/server/ejabberd/builds.js';
import { LocalEjabberd } from '../../src/server/ejabberd/local-ejabberd.js';
import { acceptsTcp } from '../../src/server/free-port.js';
import { AdminCommands } from '../../src/xmpp/admin-commands.js';
import { connectUser, type User } from '../helpers/xmpp-user.js';

const COMPONENT = 'invites.localhost';
const SECRET = 'component-secret-1';
const NS_PRIVILEGE = /^urn:xmpp:privilege:\d$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line names `needle` (our temp dir), or whose parent is this Node and that are Erlang's. */
function leftovers(needle: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = /\((.*)\)/.exec(stat)?.[1] ?? '';
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const erlang = /beam|epmd|erl_child_setup/.test(comm);
      if (cmdline.includes(needle) || (erlang && ppid === process.pid)) found.push(`${pid} ${comm} ${cmdline.slice(0, 120)}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const mode = (f: string) => fs.statSync(f).mode & 0o777;

describe(`LocalEjabberd (ejabberd ${ejabberdBuild().version}, real child process)`, function () {
  this.timeout(30_000);
  const build = ejabberdBuild();

  it('finds the build installed (the ejabberd runs need it; never skipped)', () => {
    expect(ejabberdInstalled(build), `ejabberd ${build.version} missing: run ${build.installHint}`).to.equal(true);
  });

  describe('a running server', () => {
    let server: LocalEjabberd;
    const users: User[] = [];
    const components: Component[] = [];
    const login = async (jid: string, password: string) => {
      const u = await connectUser(server.service, jid, password);
      users.push(u);
      return u;
    };

    before(async () => {
      const t = Date.now();
      server = await LocalEjabberd.start({ admins: ['boss@localhost'], component: { domain: COMPONENT, secret: SECRET } });
      console.log(`      (ejabberd ${server.version} ready in ${Date.now() - t} ms)`);
    });

    after(async () => {
      await Promise.all(users.map((u) => u.stop()));
      await Promise.all(components.map((c) => c.stop()));
      await server?.stop();
    });

    it('is ready: the build asked for, loopback ports for clients and the component open', async () => {
      expect(server.kind).to.equal('ejabberd');
      expect(server.version).to.equal(build.version);
      expect(server.pid).to.be.a('number');
      expect(alive(server.pid!)).to.equal(true);
      expect(server.service).to.equal(`xmpp://127.0.0.1:${server.c2sPort}`);
      expect(server.componentService).to.equal(`xmpp://127.0.0.1:${server.componentPort}`);
      expect(await acceptsTcp(server.c2sPort)).to.equal(true);
      expect(await acceptsTcp(server.componentPort)).to.equal(true);
      // ejabberd's logger writes with a delay: the line comes soon after.
      const deadline = Date.now() + 5000;
      while (!/ejabberd \S+ is started/.test(await server.readLog()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await server.readLog()).to.match(new RegExp(`ejabberd ${build.version.replace('.', '\\.')}\\S* is started`));
    });

    it('keeps its config (which holds the component secret) 0600 in a 0700 dir', () => {
      expect(fs.readFileSync(server.configPath, 'utf8')).to.include(SECRET);
      expect(mode(server.configPath)).to.equal(0o600);
      expect(mode(server.dir)).to.equal(0o700);
      expect(mode(path.join(server.dir, 'db'))).to.equal(0o700);
      expect(mode(path.join(server.dir, 'log'))).to.equal(0o700);
    });

    it('registers accounts while running; they log in', async () => {
      const t = Date.now();
      await server.register('alice', 'alice-pass-1');
      console.log(`      (register: ${Date.now() - t} ms)`);
      const alice = await login('alice@localhost', 'alice-pass-1');
      expect(alice.xmpp.jid?.bare().toString()).to.equal('alice@localhost');
    });

    it('register on an existing account sets its password', async () => {
      await server.register('pat', 'first-pass');
      await server.register('pat', 'second-pass');
      await login('pat@localhost', 'second-pass');
      let refused = false;
      await connectUser(server.service, 'pat@localhost', 'first-pass').then((u) => u.stop(), () => { refused = true; });
      expect(refused).to.equal(true);
    });

    it('tells whether an account exists (names nodeprepped as ejabberd does)', async () => {
      await server.register('carol', 'pw-1');
      expect(await server.userExists('carol')).to.equal(true);
      expect(await server.userExists('CAROL')).to.equal(true);
      expect(await server.userExists('nobody')).to.equal(false);
    });

    it('takes any character in names and passwords through the control channel', async () => {
      const password = 'pass with spaces, "quotes", \\ and ünïcode';
      await server.register('zoë', password);
      expect(await server.userExists('zoë')).to.equal(true);
      expect(await server.userExists('zoe')).to.equal(false);
      // (xmpp.js does not log in to ejabberd with a non-ASCII username, 23.01 and 24.12 alike; not ours to test here.)
      await server.register('zed', password);
      await login('zed@localhost', password);
    });

    it('answers commands sent at once, each its own', async () => {
      const names = Array.from({ length: 20 }, (_, i) => `many${i}`);
      await Promise.all(names.map((n) => server.register(n, 'pw')));
      const exist = await Promise.all([...names, 'none1', 'none2'].map((n) => server.userExists(n)));
      expect(exist).to.deep.equal([...names.map(() => true), false, false]);
    });

    it('unregisters an account; unregistering a missing one rejects', async () => {
      await server.register('dave', 'pw-1');
      await server.unregister('dave');
      expect(await server.userExists('dave')).to.equal(false);
      let error: Error | undefined;
      await server.unregister('dave').catch((e: Error) => { error = e; });
      expect(error?.message).to.match(/no such user/);
    });

    it('accepts the component with its secret, and grants it roster and message privileges (XEP-0356)', async () => {
      const component = new Component({ service: server.componentService, domain: COMPONENT, secret: SECRET });
      components.push(component);
      const privilege = new Promise<Element>((resolve) => {
        component.xmpp.on('stanza', (el: Element) => {
          const p = el.is('message') ? el.getChildren('privilege').find((c) => NS_PRIVILEGE.test(String(c.attrs.xmlns))) : undefined;
          if (p) resolve(p);
        });
      });
      await component.start();
      expect(component.online).to.equal(true);
      const perms = (await privilege).getChildren('perm').map((p) => `${p.attrs.access}=${p.attrs.type}`);
      expect(perms).to.include.members(['roster=both', 'message=outgoing']);
    });

    it('refuses the component with a wrong secret', async () => {
      const wrong = new Component({ service: server.componentService, domain: 'other.localhost', secret: 'not-the-secret' });
      components.push(wrong);
      let error: Error | undefined;
      await wrong.start().catch((e: Error) => { error = e; });
      expect(error, 'a wrong secret must be refused').to.be.an('error');
      expect(wrong.online).to.equal(false);
    });

    it('lets an admin in `admins` add an account by XEP-0133; a non-admin gets an IQ error', async () => {
      await server.register('boss', 'boss-pass');
      await server.register('erin', 'erin-pass');
      const boss = await login('boss@localhost', 'boss-pass');
      const made = await new AdminCommands(boss.xmpp.iqCaller, 'localhost').addUser('madebyboss', 'made-pass');
      expect(made).to.deep.equal({ ok: true });
      expect(await server.userExists('madebyboss')).to.equal(true);
      await login('madebyboss@localhost', 'made-pass');

      const erin = await login('erin@localhost', 'erin-pass');
      const refused = await new AdminCommands(erin.xmpp.iqCaller, 'localhost').addUser('madebyerin', 'x-pass');
      expect(refused.ok).to.equal(false);
      expect(refused.ok ? '' : refused.reason).to.be.oneOf(['forbidden', 'refused']);
      expect(await server.userExists('madebyerin')).to.equal(false);
    });

    it('restarts with the same ports and accounts', async () => {
      const { c2sPort, componentPort } = server;
      const before = server.pid;
      await server.restart();
      expect(server.pid).to.be.a('number').and.not.equal(before);
      expect(alive(before!)).to.equal(false);
      expect([server.c2sPort, server.componentPort]).to.deep.equal([c2sPort, componentPort]);
      expect(await server.userExists('alice')).to.equal(true);
      await login('alice@localhost', 'alice-pass-1');
    });
  });

  it('loads our bridge module when asked (server/ejabberd/ebin), told the component', async () => {
    const server = await LocalEjabberd.start({ component: { domain: COMPONENT, secret: SECRET }, bridge: true, registration: 'open' });
    try {
      expect(fs.readFileSync(server.configPath, 'utf8')).to.match(/mod_invites_bridge:\n\s+component: "invites\.localhost"/);
      expect(await server.moduleLoaded('mod_invites_bridge')).to.equal(true);
      expect(await server.moduleLoaded('mod_privilege')).to.equal(true);
      expect(await server.moduleLoaded('mod_http_upload')).to.equal(false);
    } finally {
      await server.stop();
    }
  });

  it('stops by PID and leaves no process (no beam.smp, erl_child_setup or epmd) and no dir behind; keeps its log where asked', async () => {
    const keep = fs.mkdtempSync(path.join(os.tmpdir(), 'ejabberd-keep-'));
    const saved = process.env.PROSODY_KEEP_LOGS;
    process.env.PROSODY_KEEP_LOGS = keep;
    try {
      const server = await LocalEjabberd.start();
      const { pid, dir } = server;
      expect(leftovers(dir).length).to.be.greaterThan(0);
      const t = Date.now();
      await server.stop();
      console.log(`      (stop: ${Date.now() - t} ms)`);
      expect(server.pid).to.equal(undefined);
      expect(alive(pid!)).to.equal(false);
      expect(leftovers(dir)).to.deep.equal([]);
      expect(fs.existsSync(dir)).to.equal(false);
      expect(fs.readdirSync(keep)).to.include(`ejabberd-localhost-${pid}.log`);
      await server.stop(); // idempotent
    } finally {
      if (saved === undefined) delete process.env.PROSODY_KEEP_LOGS;
      else process.env.PROSODY_KEEP_LOGS = saved;
      fs.rmSync(keep, { recursive: true, force: true });
    }
  });
});
