// Two services (child processes) started at the same moment on one lowdb store
// file, against a real Prosody: exactly one runs; the other exits at once, saying
// which process has the store, and leaves the store and the running one alone.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { bridgeOptions } from '../../src/server/prosody/bridge-setup.js';
import { LocalProsody } from '../../src/server/prosody/local-prosody.js';
import { botReply } from '../helpers/bot-reply.js';
import { ServiceProcess, type ServiceVars } from '../helpers/service-process.js';
import { connectUser } from '../helpers/xmpp-user.js';

const DOMAIN = 'localhost';
const BOT = `invitebot@${DOMAIN}`;
const COMPONENT = `invites.${DOMAIN}`;
const SECRET = 'two-services-secret';
const PASSWORD = 'two-services-pw-1';

describe('faults: two services started at once on one store file (real Prosody)', function () {
  this.timeout(60_000);
  let prosody: LocalProsody;
  let dir: string;
  const services: ServiceProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'invites-two-services-'));
    prosody = await LocalProsody.start({ domain: DOMAIN, admins: [BOT], ...bridgeOptions(COMPONENT, SECRET) });
    await Promise.all(['invitebot', 'boss'].map((u) => prosody.register(u, PASSWORD)));
  });

  after(async () => {
    for (const s of services) await s.stop();
    await prosody?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exactly one runs; the other exits 1 naming the holder', async () => {
    const vars: ServiceVars = { server: prosody, botJid: BOT, botPassword: PASSWORD, componentDomain: COMPONENT, componentSecret: SECRET, admins: [`boss@${DOMAIN}`], dir };
    const pair = [ServiceProcess.start(vars), ServiceProcess.start(vars)];
    services.push(...pair);
    const outcome = await Promise.race([
      Promise.any(pair.map((s) => s.exited.then(() => s))),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000)),
    ]);
    expect(outcome, 'one of them exits').to.not.equal(undefined);
    const loser = outcome!;
    const winner = pair.find((s) => s !== loser)!;
    expect((await loser.exited).code, loser.output).to.equal(1);
    expect(loser.output).to.match(new RegExp(`invites\\.json is in use by process ${winner.pid}: is the service already running\\?`));
    await winner.ready();
    expect(winner.running).to.equal(true);
    const boss = await connectUser(prosody.service, `boss@${DOMAIN}`, PASSWORD);
    try {
      expect(await botReply(boss, BOT, 'invite account')).to.match(/^Account invite/);
    } finally {
      await boss.stop();
    }
  });
});
