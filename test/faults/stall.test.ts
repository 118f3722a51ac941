// A peer that accepts the TCP connection and then says nothing (what a loaded ejabberd did to
// the bot while restarting): the stall guard cuts the attempt, and xmpp.js's reconnect tries
// again; without the guard the client waits for the stream header for ever.
import { createServer, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import { client } from '@xmpp/client';
import { guardStalls } from '../../src/xmpp/stall-guard.js';

describe('faults: a server that accepts and then stalls', function () {
  this.timeout(10_000);
  let server: Server;
  const sockets: Socket[] = [];
  let connections = 0;
  before(async () => {
    server = createServer((s) => { connections++; sockets.push(s); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('the attempt is cut after the guard\'s time and made again', async () => {
    const port = (server.address() as { port: number }).port;
    const x = client({ service: `xmpp://127.0.0.1:${port}`, domain: 'localhost', username: 'u', password: 'p' });
    x.on('error', () => {});
    x.reconnect.delay = 100;
    guardStalls(x, 'test connection', 300);
    void x.start().catch(() => {});
    try {
      const t0 = Date.now();
      while (connections < 3 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
      expect(connections, 'connections the client made to the silent server').to.be.at.least(3);
    } finally {
      x.reconnect.stop();
      await x.stop().catch(() => {});
    }
  });
});
