// Finding 7 of the security review: token IQs (XEP-0445 preauth) were not limited
// (1,200–1,800 guesses a second on one stream). Now the component allows 5 per
// stream and PREAUTH_RATE_LIMIT refused tokens per client address (loopback too: the
// harness exempts it for the other suites, not here), with a sentence.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { freePorts } from '../../src/server/free-port.js';
import { ServiceProcess } from '../helpers/service-process.js';
import { iqError, openUnauthenticated } from '../helpers/raw-iq.js';
import { DOMAIN, serverName, type Stack, startStack } from '../helpers/stack.js';
import { conversations } from '../conformance/clients.js';

const guess = (i: number) => `guess${String(i).padStart(19, '0')}`;

describe(`abuse: guessing invite tokens (real ${serverName()}, unauthenticated streams)`, function () {
  this.timeout(30_000);
  let stack: Stack;
  before(async () => { stack = await startStack({ PREAUTH_LIMIT_EXEMPT: '', PREAUTH_RATE_LIMIT: '8/60' }); });
  after(async () => { await stack?.stop(); });

  it('one stream gets 5 tries, then "too many" with the wait; a new stream of the same address goes on until the address limit', async () => {
    // Invitees behind one address (a carrier's NAT) cost it nothing: only refused tokens count.
    for (let i = 0; i < 10; i++) {
      const invite = await stack.app.service.create({ system: 'cli' }, { kind: 'account' });
      if (!invite.ok) throw new Error(invite.message);
      const stream = await openUnauthenticated(stack.server.service, DOMAIN);
      const answer = await stream.iq.request(conversations.preauth(DOMAIN, invite.token), 10_000);
      await stream.close();
      expect(answer.attrs.type, `valid token ${i}`).to.equal('result');
    }
    const first = await openUnauthenticated(stack.server.service, DOMAIN);
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(iqError(await first.iq.request(conversations.preauth(DOMAIN, guess(i)), 10_000)));
    await first.close();
    expect(answers.slice(0, 5).map((a) => a?.condition)).to.deep.equal(Array(5).fill('item-not-found'));
    for (const a of answers.slice(5)) {
      expect(a).to.deep.include({ type: 'wait', condition: 'resource-constraint' });
      expect(a?.text).to.match(/^Too many invite attempts from here; wait \d+ seconds and try again\.$/);
    }
    // The stream's refusals cost the address nothing: 5 of its 8 are spent, 3 are left, then none, even for a real token.
    const second = await openUnauthenticated(stack.server.service, DOMAIN);
    const more = [];
    for (let i = 0; i < 5; i++) more.push(iqError(await second.iq.request(conversations.preauth(DOMAIN, guess(100 + i)), 10_000))?.condition);
    await second.close();
    expect(more).to.deep.equal([...Array(3).fill('item-not-found'), 'resource-constraint', 'resource-constraint']);
    const made = await stack.app.service.create({ system: 'cli' }, { kind: 'account' });
    if (!made.ok) throw new Error(made.message);
    const third = await openUnauthenticated(stack.server.service, DOMAIN);
    const real = iqError(await third.iq.request(conversations.preauth(DOMAIN, made.token), 10_000));
    await third.close();
    expect(real?.condition).to.equal('resource-constraint');
    expect((await stack.app.service.lookup(made.token)).state, 'nothing spent').to.equal('valid');
  });
});

describe('abuse: guessing tokens against npm start with nothing configured (loopback, real processes)', function () {
  this.timeout(60_000);
  let cwd: string;
  let service: ServiceProcess | undefined;
  before(async () => { cwd = await mkdtemp(join(tmpdir(), 'invites-guess-')); });
  after(async () => {
    await service?.stop();
    await rm(cwd, { recursive: true, force: true });
  });

  it('one address gets 30 tries a minute over any number of streams, then "too many"', async () => {
    const [port] = await freePorts(1);
    service = new ServiceProcess(cwd, { HTTP_PORT: String(port) });
    await service.waitFor(/An invite for the first administrator account/);
    const c2s = /running on 127\.0\.0\.1:(\d+)/.exec(service.stdout)![1]!;
    const conditions: (string | undefined)[] = [];
    for (let s = 0; s < 8; s++) {
      const stream = await openUnauthenticated(`xmpp://127.0.0.1:${c2s}`, 'localhost');
      for (let i = 0; i < 5; i++) conditions.push(iqError(await stream.iq.request(conversations.preauth('localhost', guess(s * 5 + i)), 10_000))?.condition);
      await stream.close();
    }
    expect(conditions.filter((c) => c === 'item-not-found')).to.have.length(30);
    expect(conditions.slice(30)).to.deep.equal(Array(10).fill('resource-constraint'));
  });
});
