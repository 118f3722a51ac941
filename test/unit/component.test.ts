// The component's own reconnection policy, against a port nobody listens on.
import { expect } from 'chai';
import { Component } from '../../src/component/component.js';
import { freePorts } from '../../src/server/free-port.js';

describe('component reconnection', () => {
  it('does not give up when the server is not up yet, and doubles its wait up to the cap', async () => {
    const [port] = await freePorts(1);
    const c = new Component({ service: `xmpp://127.0.0.1:${port}`, domain: 'invites.localhost', secret: 's', backoff: { min: 20, max: 80 } });
    const delays: number[] = [];
    try {
      await c.start(); // resolves: the retry loop takes over
      await new Promise<void>((resolve) => c['reconnect'].on('reconnecting', () => {
        delays.push(c.retryDelay);
        if (delays.length === 4) resolve();
      }));
    } finally {
      await c.stop();
    }
    expect(delays).to.deep.equal([40, 80, 80, 80]);
    expect(c.online).to.equal(false);
  });
});

describe('component reconnection by default', () => {
  it('is back within 2 s of a drop: a gap is a window for anyone else holding the secret', async function () {
    this.timeout(15_000);
    const [port] = await freePorts(1);
    const c = new Component({ service: `xmpp://127.0.0.1:${port}`, domain: 'invites.localhost', secret: 's' });
    const delays: number[] = [];
    try {
      await c.start();
      await new Promise<void>((resolve) => c['reconnect'].on('reconnecting', () => {
        delays.push(c.retryDelay);
        if (delays.length === 6) resolve();
      }));
    } finally {
      await c.stop();
    }
    expect(Math.max(...delays)).to.equal(2000);
    expect(delays[0]).to.be.at.most(250);
  });
});
