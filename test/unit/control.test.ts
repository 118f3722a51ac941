import { createConnection, type Server } from 'node:net';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Operation } from '../../src/control/operations.js';
import { askService, serveControl } from '../../src/control/socket.js';

describe('control socket', () => {
  let dir: string;
  let server: Server;
  let handled: Operation[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'invites-control-'));
    handled = [];
    server = await serveControl(join(dir, 'control.sock'), async (op) => {
      handled.push(op);
      await new Promise((r) => setTimeout(r, 50)); // an operation takes time (a store write)
      return { ok: true, text: `did ${op.op}` };
    });
  });
  afterEach(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers one request, in a socket only its owner may use', async () => {
    expect(await askService(join(dir, 'control.sock'), { op: 'list' })).to.deep.equal({ ok: true, text: 'did list' });
    expect((await stat(join(dir, 'control.sock'))).mode & 0o777).to.equal(0o600);
  });

  it('runs a request once even when more bytes follow its line', async () => {
    const reply = await new Promise<string>((resolve) => {
      const conn = createConnection(join(dir, 'control.sock'));
      let buf = '';
      conn.on('data', (d) => (buf += d));
      conn.on('close', () => resolve(buf));
      conn.write('{"op":"list"}\n');
      setTimeout(() => conn.write('more\n{"op":"list"}\n'), 10); // while the first is running
    });
    expect(reply).to.equal('{"ok":true,"text":"did list"}\n');
    expect(handled).to.have.length(1);
  });

  it('says nobody listens when there is no service', async () => {
    expect(await askService(join(dir, 'nobody.sock'), { op: 'list' })).to.equal(undefined);
  });
});
