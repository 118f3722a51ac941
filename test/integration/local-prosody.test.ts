import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { client } from '@xmpp/client';
import { expect } from 'chai';
import { LocalProsody, prosodyInstalled } from '../../src/server/prosody/local-prosody.js';
import { acceptsTcp } from '../../src/server/free-port.js';

/** Log in, wait for 'online', log out; resolve the bound full JID. */
async function loginOnce(server: LocalProsody, username: string, password: string): Promise<string> {
  const xmpp = client({ service: server.service, domain: server.domain, username, password });
  xmpp.on('error', () => {}); // start() rejects with the same error
  let online: string | undefined;
  xmpp.on('online', (jid) => {
    online = jid.toString();
  });
  try {
    await xmpp.start();
  } finally {
    await xmpp.stop().catch(() => {});
  }
  return online ?? '';
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('LocalProsody', function () {
  this.timeout(30000);

  it('finds Prosody installed (the integration tests need it; never skipped)', () => {
    expect(prosodyInstalled(), 'apt-get install prosody prosody-modules').to.equal(true);
  });

  describe('lifecycle', () => {
    let server: LocalProsody;

    before(async () => {
      server = await LocalProsody.start({
        components: [{ domain: 'invites.localhost', secret: 'component-secret' }],
        admins: ['invites.localhost'],
        // Exercises Lua string escaping: Prosody must still parse the config.
        hostOptions: { local_prosody_test: 'quote " backslash \\ newline \n ünïcode', local_prosody_n: 3 },
      });
    });

    after(async () => {
      await server?.stop();
    });

    it('listens on loopback for c2s and components', async () => {
      expect(server.pid).to.be.a('number');
      expect(server.service).to.equal(`xmpp://127.0.0.1:${server.c2sPort}`);
      expect(server.componentService).to.equal(`xmpp://127.0.0.1:${server.componentPort}`);
      expect(await acceptsTcp(server.c2sPort)).to.equal(true);
      expect(await acceptsTcp(server.componentPort)).to.equal(true);
      expect(fs.existsSync(server.configPath)).to.equal(true);
    });

    it('registers users and reports whether they exist', async () => {
      await server.register('alice_test', 'secret-1');
      expect(await server.userExists('alice_test')).to.equal(true);
      expect(await server.userExists('Alice_Test')).to.equal(true);
      expect(await server.userExists('nobody')).to.equal(false);

      await server.register('bob', 'secret-2');
      await server.unregister('bob');
      expect(await server.userExists('bob')).to.equal(false);
    });

    it('rejects registration on an unknown host with prosodyctl output', async () => {
      const err = await server.register('x', 'y', 'nope.example').then(() => undefined, (e: Error) => e);
      expect(err?.message).to.match(/prosodyctl register x@nope.example failed: .+/);
    });

    it('lets a registered user log in', async () => {
      const jid = await loginOnce(server, 'alice_test', 'secret-1');
      expect(jid).to.match(/^alice_test@localhost\//);
    });

    it('restarts on the same ports with the same data', async () => {
      const { c2sPort, componentPort } = server;
      const oldPid = server.pid!;
      await server.restart();
      expect(server.pid).to.be.a('number').and.not.equal(oldPid);
      expect(processAlive(oldPid)).to.equal(false);
      expect([server.c2sPort, server.componentPort]).to.deep.equal([c2sPort, componentPort]);
      expect(await acceptsTcp(server.componentPort)).to.equal(true);
      const jid = await loginOnce(server, 'alice_test', 'secret-1');
      expect(jid).to.match(/^alice_test@localhost\//);
    });

    it('stops: process gone, temp dir removed, idempotent', async () => {
      const pid = server.pid!;
      const dir = server.dir;
      expect(dir).to.include('xmpp-invites-prosody-');
      await server.stop();
      expect(server.pid).to.equal(undefined);
      expect(processAlive(pid)).to.equal(false);
      expect(fs.existsSync(dir)).to.equal(false);
      await server.stop();
    });
  });

  it('keeps a given dir and its accounts across start/stop', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-prosody-test-'));
    try {
      const first = await LocalProsody.start({ dir, domain: 'example.test' });
      await first.register('carol', 'pw');
      await first.stop();
      expect(fs.existsSync(first.configPath)).to.equal(true);

      const second = await LocalProsody.start({ dir, domain: 'example.test' });
      try {
        expect(await second.userExists('carol')).to.equal(true);
        expect(await loginOnce(second, 'carol', 'pw')).to.match(/^carol@example\.test\//);
      } finally {
        await second.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with the log tail when a requested port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const err = await LocalProsody.start({ c2sPort: port }).then(
        async (s) => {
          await s.stop();
          return undefined;
        },
        (e: Error) => e,
      );
      expect(err?.message).to.include(`port ${port} is already in use`);
      expect(err?.message).to.include('Failed to open server port');
    } finally {
      blocker.close();
    }
  });
});
