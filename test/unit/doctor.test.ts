// doctor's judging of what the server said (src/server/doctor.ts): which line says what,
// with which fix, and the exit code. The probes themselves: test/integration/doctor*.test.ts.
import { expect } from 'chai';
import { exitCode, formatReport, judge } from '../../src/server/doctor.js';
import type { DoctorConfig, DoctorFacts } from '../../src/server/doctor-probes.js';
import { ADD_USER, CHANGE_USER_PASSWORD } from '../../src/xmpp/admin-commands.js';

const config: DoctorConfig = {
  xmppService: 'xmpp://127.0.0.1:5222', xmppDomain: 'example.org', botJid: 'bot@example.org', botPassword: 'pw',
  componentDomain: 'invites.example.org', componentService: 'xmpp://127.0.0.1:5347', componentSecret: 's', registrationInviteOnly: true,
};

const ejabberd = (over: Partial<DoctorFacts> = {}): DoctorFacts => ({
  bot: { ok: true },
  software: { name: 'ejabberd', version: '23.01-1', source: 'xep0092' },
  features: ['jabber:iq:last'],
  component: { state: 'connected' },
  privilege: { ns: 'urn:xmpp:privilege:1', perms: [{ access: 'message', type: 'outgoing' }, { access: 'roster', type: 'both' }, { access: 'presence', type: 'none' }] },
  xep0133: { nodes: [ADD_USER, CHANGE_USER_PASSWORD], botExists: true },
  registration: { advertised: false, tokens: false },
  ...over,
});

const find = (checks: ReturnType<typeof judge>, feature: string) => checks.filter((c) => c.feature === feature);

describe('doctor: judging the facts', () => {
  it('ejabberd without the bridge but with the component: the bridge line fails, with ejabberd\'s fix', () => {
    const checks = judge(ejabberd(), config);
    const [bridge] = find(checks, 'bridge');
    expect(bridge).to.include({ status: 'fail' });
    expect(bridge!.fix).to.include('modules: mod_invites_bridge: component: "invites.example.org"');
    expect(exitCode(checks)).to.equal(1);
  });

  it('XEP-0356 is reported, never asked for: the service does not use it (ejabberd 23.01 also fails roster sets)', () => {
    const [p] = find(judge(ejabberd({ bridge: { server: 'ejabberd', version: '23.01', via: 'info' } }), config), 'XEP-0356');
    expect(p).to.deep.equal({
      feature: 'XEP-0356', status: 'info',
      text: 'The server grants the component message outgoing, roster both (urn:xmpp:privilege:1); this service does not use it (contacts are made by mod_invites_bridge, where it is loaded), so nothing needs granting (ejabberd before 23.10 fails every roster set anyway).',
    });
    const [none] = find(judge(ejabberd({ privilege: null }), config), 'XEP-0356');
    expect(none).to.deep.include({ status: 'info' });
    expect(none!.fix).to.equal(undefined);
  });

  it('open registration without a bridge is a failure (anyone can register): the fix closes it', () => {
    const [r] = find(judge(ejabberd({ registration: { advertised: true, tokens: false } }), { ...config, componentSecret: undefined }), 'in-band registration');
    expect(r).to.deep.include({ status: 'fail', fix: 'In ejabberd.yml: mod_register: access: none (or load the bridge).' });
    expect(r!.text).to.include('ejabberd ignores XEP-0445');
  });

  it('with the bridge, closed registration fails (tokens cannot register); open passes, invite-only said', () => {
    const bridged = { bridge: { server: 'ejabberd', version: '23.01', via: 'info' as const } };
    expect(find(judge(ejabberd(bridged), config), 'in-band registration')[0]).to.include({ status: 'fail' });
    const open = judge(ejabberd({ ...bridged, registration: { advertised: true, tokens: true } }), config);
    expect(find(open, 'in-band registration')[0]).to.include({ status: 'ok', text: 'Open to clients, and the bridge refuses it without an invite token (REGISTRATION_INVITE_ONLY).' });
    expect(find(open, 'bridge')[0]!.text).to.include('ejabberd has no per-account roles');
    expect(exitCode(open)).to.equal(0);
  });

  it('no component configured: a warning with the setting to add, and no failure for the bridge', () => {
    const checks = judge(ejabberd({ component: { state: 'not-configured' }, privilege: undefined }), { ...config, componentSecret: undefined });
    expect(find(checks, 'component')[0]).to.include({ status: 'warn' });
    expect(find(checks, 'component')[0]!.fix).to.include('COMPONENT_SECRET=');
    expect(find(checks, 'bridge')[0]).to.include({ status: 'info' });
    expect(find(checks, 'XEP-0356')).to.deep.equal([]);
    expect(exitCode(checks)).to.equal(0);
  });

  it('the running service holds the component: said so truthfully; XEP-0356 not checked', () => {
    const checks = judge(ejabberd({ component: { state: 'held', how: 'conflict' }, privilege: undefined, bridge: { via: 'stream-features' }, registration: { advertised: true, tokens: true } }), config);
    expect(find(checks, 'component')[0]!.text).to.equal('The component invites.example.org is connected (by the running service: the server refused a second connection); its secret was not tried again.');
    expect(find(checks, 'XEP-0356')[0]).to.include({ status: 'info' });
  });

  it('ejabberd without mod_last: resets without a bridge cannot be checked, and the fix says how', () => {
    const [x] = find(judge(ejabberd({ features: [], xep0133: { nodes: [ADD_USER, CHANGE_USER_PASSWORD], botExists: undefined } }), config), 'XEP-0133');
    expect(x).to.deep.include({ status: 'warn', fix: 'Load mod_last in ejabberd.yml (get-user-lastlogin then tells whether an account exists).' });
  });

  it('a bot that may not run the commands: failure, with the server\'s admin settings', () => {
    const [x] = find(judge(ejabberd({ xep0133: { ok: false, reason: 'forbidden', message: 'forbidden: Access denied by service policy' } }), config), 'XEP-0133');
    expect(x).to.deep.include({ status: 'fail', text: 'The bot may not run admin commands: forbidden: Access denied by service policy.' });
    expect(x!.fix).to.include('acl: admin: user: ["bot@example.org"]');
  });

  it('no server at XMPP_SERVICE: the fix is the address, and the bridge is not said to be missing', () => {
    const checks = judge(ejabberd({ bot: { ok: false, error: 'connect ECONNREFUSED 127.0.0.1:1' }, software: undefined, features: [], component: { state: 'not-configured' }, privilege: undefined, xep0133: undefined, registration: { error: 'connect ECONNREFUSED 127.0.0.1:1' } }), { ...config, componentSecret: undefined });
    expect(find(checks, 'bot login')[0]!.fix).to.equal('Set XMPP_SERVICE to the server\'s client address (xmpp://HOST:5222), and check that the server runs.');
    expect(find(checks, 'bridge')[0]).to.deep.equal({ feature: 'bridge', status: 'info', text: 'Not checked: the server cannot be reached.' });
    expect(exitCode(checks)).to.equal(1);
  });

  it('the report: a line per check, its fix below, a last line that sums up', () => {
    const text = formatReport([
      { feature: 'a', status: 'ok', text: 'Fine.' },
      { feature: 'b', status: 'fail', text: 'Broken.', fix: 'Do this.' },
    ]);
    expect(text).to.equal('[ok  ] a: Fine.\n[FAIL] b: Broken.\n       fix: Do this.\n1 needed feature does not work.');
  });
});
