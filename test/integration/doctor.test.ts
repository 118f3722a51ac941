// `npm run invites -- doctor` as an admin runs it (a child process, the config in
// its environment) against real Prosody servers (PROSODY_VERSION: 0.12 or 13):
// with the bridge, with the service running or not, without the bridge, with a
// wrong component secret, and with a bot that is no admin.
import { expect } from 'chai';
import { bridgeOptions } from '../../src/server/prosody/bridge-setup.js';
import { COMPONENT, COMPONENT_SECRET, DOMAIN, type Stack, startStack } from '../helpers/stack.js';
import { runScript } from '../helpers/scripts.js';

type Run = { code: number | null; stdout: string; stderr: string };

function doctor(stack: Stack, vars: Record<string, string> = {}): Promise<Run> {
  const keep = ['XMPP_SERVICE', 'BOT_JID', 'BOT_PASSWORD', 'COMPONENT_DOMAIN', 'COMPONENT_SERVICE', 'COMPONENT_SECRET', 'STORE_FILE'];
  const env = Object.fromEntries(keep.filter((k) => stack.env[k] !== undefined).map((k) => [k, stack.env[k]!]));
  return runScript('src/cli.ts', ['doctor'], { cwd: stack.dir, vars: { ...env, ...vars } });
}

/** The line of one feature, e.g. "[ok  ] component: …". */
const line = (out: string, feature: string) => out.split('\n').find((l) => l.startsWith('[') && l.includes(`] ${feature}: `)) ?? '';
const fixAfter = (out: string, feature: string) => {
  const lines = out.split('\n');
  const i = lines.indexOf(line(out, feature));
  return i >= 0 && lines[i + 1]?.trim().startsWith('fix: ') ? lines[i + 1]!.trim() : '';
};

const privileged = {
  ...bridgeOptions(COMPONENT, COMPONENT_SECRET),
  hostModules: ['register', 'invites_bridge', 'privilege'],
  hostOptions: { ...bridgeOptions(COMPONENT, COMPONENT_SECRET).hostOptions, privileged_entities: { [COMPONENT]: { roster: 'both', message: 'outgoing' } } },
  components: [{ domain: COMPONENT, secret: COMPONENT_SECRET, modules: ['privilege'] }],
};

describe('doctor on a real Prosody', function () {
  this.timeout(60_000);

  describe('with the bridge', () => {
    let stack: Stack;
    before(async () => { stack = await startStack({}, { prosody: privileged, app: false }); });
    after(() => stack?.stop());

    it('service stopped: connects the component, finds the bridge by info, sees XEP-0356; exit 0', async () => {
      const r = await doctor(stack);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      expect(line(r.stdout, 'bot login')).to.match(/^\[ok {2}\] /);
      expect(line(r.stdout, 'server software')).to.match(stack.server.version === '13' ? /The server is Prosody 13\.\S+ \(from the bridge's info\)\./ : /The server is Prosody 0\.12\.\S+ \(from the bridge's info\)\./);
      expect(line(r.stdout, 'component')).to.equal(`[ok  ] component: The component ${COMPONENT} connects at ${stack.env.COMPONENT_SERVICE} (the server accepts the secret).`);
      expect(line(r.stdout, 'bridge')).to.match(/^\[ok {2}\] bridge: mod_invites_bridge is loaded \(it answers info\)/);
      expect(line(r.stdout, 'XEP-0133')).to.match(/^\[ok {2}\] /);
      expect(line(r.stdout, 'XEP-0356')).to.equal('[info] XEP-0356: The server grants the component roster both, message outgoing (urn:xmpp:privilege:2); this service does not use it (contacts are made by mod_invites_bridge, where it is loaded), so nothing needs granting.');
      expect(line(r.stdout, 'in-band registration')).to.match(/^\[ok {2}\] in-band registration: Open to clients, and the bridge refuses it without an invite token/);
      expect(r.stdout.trim().split('\n').at(-1)).to.equal('Everything this configuration needs works.');
    });

    it('service running: says the component is connected by it, and does not take its place', async () => {
      await stack.startApp();
      const r = await doctor(stack);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      expect(line(r.stdout, 'component')).to.equal(`[ok  ] component: The component ${COMPONENT} is connected (by the running service: it answers at its address); its secret was not tried again.`);
      expect(line(r.stdout, 'bridge')).to.match(/^\[ok {2}\] bridge: mod_invites_bridge is loaded \(its token stream features are offered\)/);
      expect(line(r.stdout, 'XEP-0356')).to.match(/^\[info\] XEP-0356: Not checked/);
      expect(stack.app.component!.online, 'the service kept its component').to.equal(true);
      expect(stack.app.server!.kind).to.equal('prosody');
    });

    it('a wrong component secret: FAIL with the fix, exit 1', async () => {
      await stack.app.stop();
      const r = await doctor(stack, { COMPONENT_SECRET: 'not-the-secret' });
      expect(r.code).to.equal(1);
      expect(line(r.stdout, 'component')).to.match(/^\[FAIL\] component: The server refused the component invites\.localhost: not-authorized/);
      expect(fixAfter(r.stdout, 'component')).to.include(`component_secret of Component "${COMPONENT}"`);
      expect(r.stdout + r.stderr, 'no secret in the output').to.not.include('not-the-secret');
    });
  });

  describe('without the bridge', () => {
    let stack: Stack;
    before(async () => { stack = await startStack({}, { prosody: { pluginPaths: [], hostModules: [], hostOptions: {} }, app: false }); });
    after(() => stack?.stop());

    it('says what is missing and the config lines to add; exit 1', async () => {
      const r = await doctor(stack);
      expect(r.code, r.stdout + r.stderr).to.equal(1);
      expect(line(r.stdout, 'server software')).to.match(/The server is Prosody \S+ \(from XEP-0092 software version\)\./);
      expect(line(r.stdout, 'component')).to.match(/^\[ok {2}\] component: /);
      expect(line(r.stdout, 'bridge')).to.match(/^\[FAIL\] bridge: No mod_invites_bridge answers/);
      expect(fixAfter(r.stdout, 'bridge')).to.include('modules_enabled = { "invites_bridge" }').and.include(`invites_bridge_component = "${COMPONENT}"`);
      expect(line(r.stdout, 'XEP-0133')).to.match(/^\[ok {2}\] XEP-0133: .*\(user-stats\)\./);
      expect(line(r.stdout, 'XEP-0356')).to.match(/^\[info\] XEP-0356: The server grants the component no privileges; this service does not use it/);
      expect(line(r.stdout, 'in-band registration')).to.equal('[ok  ] in-band registration: Closed: accounts are made only through invites (the web form).');
    });

    it('a bot that is no server admin: XEP-0133 FAIL with the admins line', async () => {
      await stack.server.register('plainbot', 'plain-password-1');
      const r = await doctor(stack, { BOT_JID: `plainbot@${DOMAIN}`, BOT_PASSWORD: 'plain-password-1' });
      expect(r.code).to.equal(1);
      expect(line(r.stdout, 'XEP-0133')).to.match(/^\[FAIL\] XEP-0133: /);
      expect(fixAfter(r.stdout, 'XEP-0133')).to.equal(`fix: Make the bot an admin: admins = { "plainbot@${DOMAIN}" } in the server's config, and load "admin_adhoc" (modules_enabled).`);
    });

    it('a wrong bot password: FAIL, and the other checks still run', async () => {
      const r = await doctor(stack, { BOT_PASSWORD: 'wrong-password-9' });
      expect(r.code).to.equal(1);
      expect(line(r.stdout, 'bot login')).to.match(/^\[FAIL\] bot login: The bot cannot log in as invitebot@localhost .*not-authorized/);
      expect(line(r.stdout, 'in-band registration')).to.match(/^\[ok {2}\] /);
      expect(r.stdout + r.stderr).to.not.include('wrong-password-9');
    });
  });
});
