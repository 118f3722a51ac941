// `npm run invites -- doctor`: what the configured server offers the service,
// one line per feature, each with what to change when it does not work. The
// facts come from doctor-probes.ts; judging them is pure (unit-tested).
import { fileURLToPath } from 'node:url';
import { ADD_USER, CHANGE_USER_PASSWORD } from '../xmpp/admin-commands.js';
import type { DoctorConfig, DoctorFacts } from './doctor-probes.js';
import { describeSoftware } from './identify.js';
import { BRIDGE_MODULE_DIR } from './prosody/bridge-setup.js';

const EJABBERD_EBIN = fileURLToPath(new URL('../../server/ejabberd/ebin', import.meta.url));

/** fail: something the configuration needs does not work (the exit code says so); warn: works, but less than it could. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'info';

export interface Check {
  feature: string;
  status: CheckStatus;
  /** A sentence: what was found. */
  text: string;
  /** What to change, when something should. */
  fix?: string;
}

/** ejabberd before 23.10 grants XEP-0356 roster rights but fails every roster set (fixed in 23.10). */
function ejabberdRosterSetBroken(version: string | undefined): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  return m !== null && (Number(m[1]) < 23 || (Number(m[1]) === 23 && Number(m[2]) < 10));
}

export function judge(f: DoctorFacts, c: DoctorConfig): Check[] {
  const checks: Check[] = [];
  const name = f.bridge?.server ?? f.software?.name;
  const ejabberd = name === 'ejabberd';
  const prosody = name === 'prosody';
  const componentWanted = c.componentSecret !== undefined;

  // The bot: everything else the service does on the server goes through it.
  if (f.bot.ok) {
    checks.push({ feature: 'bot login', status: 'ok', text: `The bot logs in as ${c.botJid} at ${c.xmppService}.` });
  } else {
    // Nothing answered at all: the address is wrong, not the account.
    const noServer = 'error' in f.registration;
    checks.push({
      feature: 'bot login', status: 'fail', text: `The bot cannot log in as ${c.botJid} at ${c.xmppService}: ${f.bot.error}.`,
      fix: noServer
        ? 'Set XMPP_SERVICE to the server\'s client address (xmpp://HOST:5222), and check that the server runs.'
        : `Check BOT_JID and BOT_PASSWORD, or create the account (Prosody: prosodyctl register ${c.botJid.replace('@', ' ')} PASSWORD; ejabberd: ejabberdctl register ${c.botJid.replace('@', ' ')} PASSWORD).`,
    });
  }

  // Which server: the bridge's own word first, then XEP-0092, then the disco identity.
  const software = f.bridge?.via === 'info' && f.bridge.server
    ? { name: f.bridge.server, ...(f.bridge.version ? { version: f.bridge.version } : {}), source: 'bridge' as const }
    : f.software;
  if (software) {
    const how = { bridge: 'the bridge\'s info', xep0092: 'XEP-0092 software version', disco: 'its disco#info identity' }[software.source];
    checks.push({ feature: 'server software', status: 'info', text: `The server is ${describeSoftware(software)} (from ${how}).` });
  } else if (f.bot.ok) {
    checks.push({ feature: 'server software', status: 'info', text: 'The server does not say which software it is (no XEP-0092 answer, no server identity in disco#info).' });
  }

  // The component.
  const comp = f.component;
  switch (comp.state) {
    case 'not-configured':
      checks.push({
        feature: 'component', status: 'warn', text: 'No component is configured (COMPONENT_SECRET is not set): in-band registration with invite tokens and contact auto-approval are off.',
        fix: `Add a component ${c.componentDomain} to the server and set COMPONENT_SECRET=<its secret> (and COMPONENT_DOMAIN, COMPONENT_SERVICE if they differ).`,
      });
      break;
    case 'connected':
      checks.push({ feature: 'component', status: 'ok', text: `The component ${c.componentDomain} connects at ${c.componentService} (the server accepts the secret).` });
      break;
    case 'held':
      checks.push({
        feature: 'component', status: 'ok',
        text: `The component ${c.componentDomain} is connected (by the running service${comp.how === 'conflict' ? ': the server refused a second connection' : ': it answers at its address'}); its secret was not tried again.`,
      });
      break;
    case 'refused':
      checks.push({
        feature: 'component', status: 'fail', text: `The server refused the component ${c.componentDomain}: ${comp.error}.`,
        fix: ejabberd
          ? `COMPONENT_SECRET must be the password of ${c.componentDomain} under the ejabberd_service listener's hosts in ejabberd.yml.`
          : `COMPONENT_SECRET must equal component_secret of Component "${c.componentDomain}" in the server's config (Prosody), or that component's password (ejabberd_service).`,
      });
      break;
    case 'unreachable':
      checks.push({
        feature: 'component', status: 'fail', text: `Nothing accepts the component at ${c.componentService}: ${comp.error}.`,
        fix: `Set COMPONENT_SERVICE to the server's component port (Prosody: component_ports, default 5347; ejabberd: an ejabberd_service listener), and add the component ${c.componentDomain} there.`,
      });
      break;
  }

  // The bridge.
  const bridgeFix = ejabberd
    ? `Load the bridge on the host: build ${EJABBERD_EBIN}/mod_invites_bridge.beam (erlc), put that folder on ejabberd's code path (erl -pz), and add to ejabberd.yml  modules: mod_invites_bridge: component: "${c.componentDomain}"`
    : `Load the bridge on the VirtualHost: plugin_paths = { "${BRIDGE_MODULE_DIR.replace(/\/$/, '')}" }; modules_enabled = { "invites_bridge" }; invites_bridge_component = "${c.componentDomain}"`;
  if (f.bridge) {
    const via = { info: 'it answers info', account: 'it answers account; an older bridge without info', 'stream-features': 'its token stream features are offered' }[f.bridge.via];
    const what = ejabberd
      ? 'in-band registration with tokens and contacts are made by the server; ejabberd has no per-account roles, so the roles of invites stay this service\'s (its administrators are acl: admin in ejabberd.yml)'
      : 'in-band registration with tokens, contacts and roles are made by the server';
    checks.push({ feature: 'bridge', status: 'ok', text: `mod_invites_bridge is loaded (${via}): ${what}.` });
    if (!componentWanted) {
      checks.push({ feature: 'bridge', status: 'fail', text: 'The bridge is loaded but no component is configured: the bridge refuses every in-band registration ("try again later").', fix: 'Set COMPONENT_SECRET (and COMPONENT_DOMAIN) to the bridge\'s component.' });
    }
  } else if (componentWanted && comp.state !== 'held') {
    checks.push({
      feature: 'bridge', status: comp.state === 'connected' ? 'fail' : 'warn',
      text: comp.state === 'connected'
        ? 'No mod_invites_bridge answers: tokens cannot be used in-band, account+contact invites make no contacts, and invite roles stay this service\'s; the web form still makes accounts (XEP-0133).'
        : 'Whether mod_invites_bridge is loaded could not be checked: the component did not connect, and no token stream features are offered.',
      fix: bridgeFix,
    });
  } else if (componentWanted) {
    checks.push({ feature: 'bridge', status: 'fail', text: 'The component is connected, but the server offers no token stream features: mod_invites_bridge is not loaded on the host.', fix: bridgeFix });
  } else if ('error' in f.registration && !f.bot.ok) {
    checks.push({ feature: 'bridge', status: 'info', text: 'Not checked: the server cannot be reached.' });
  } else {
    checks.push({ feature: 'bridge', status: 'info', text: 'No bridge: accounts through the web form (XEP-0133) only; no in-band tokens, no contacts made, invite roles stay this service\'s.', fix: `For the rest: add a component and ${bridgeFix.charAt(0).toLowerCase()}${bridgeFix.slice(1)}` });
  }

  // XEP-0133, run by the bot.
  const x = f.xep0133;
  const adminFix = ejabberd
    ? `Make the bot an admin in ejabberd.yml: acl: admin: user: ["${c.botJid}"], access_rules: configure: allow: admin, and load mod_adhoc and mod_configure.`
    : prosody
      ? `Make the bot an admin: admins = { "${c.botJid}" } in the server's config, and load "admin_adhoc" (modules_enabled).`
      : `Make ${c.botJid} an administrator of the server, allowed to run XEP-0133 add-user and change-user-password.`;
  if (x && 'nodes' in x) {
    const missing = [ADD_USER, CHANGE_USER_PASSWORD].filter((n) => !x.nodes.includes(n)).map((n) => n.split('#')[1]);
    if (missing.length) {
      checks.push({ feature: 'XEP-0133', status: 'fail', text: `The server does not offer the bot ${missing.join(' and ')}: the web form cannot make accounts or set passwords.`, fix: adminFix });
    } else if (x.botExists === true) {
      checks.push({ feature: 'XEP-0133', status: 'ok', text: `The bot may run add-user and change-user-password (listed), and a read-only command answered (${ejabberd ? 'get-user-lastlogin' : 'user-stats'}).` });
    } else {
      checks.push({
        feature: 'XEP-0133', status: ejabberd && !f.features.includes('jabber:iq:last') ? 'warn' : 'ok',
        text: `The bot may run add-user and change-user-password (listed); whether an account exists cannot be asked this way${f.bridge ? ' (the bridge answers that instead)' : ', so without the bridge a reset is refused (ejabberd) or sent unchecked'}.`,
        ...(ejabberd && !f.features.includes('jabber:iq:last') ? { fix: 'Load mod_last in ejabberd.yml (get-user-lastlogin then tells whether an account exists).' } : {}),
      });
    }
  } else if (x) {
    checks.push({ feature: 'XEP-0133', status: 'fail', text: `The bot may not run admin commands: ${x.message}.`, fix: adminFix });
  }

  // XEP-0356: only seen by a component connecting here. Reported, never asked for: this
  // service makes contacts through the bridge, and a roster right is one less to grant.
  const unused = 'this service does not use it (contacts are made by mod_invites_bridge, where it is loaded), so nothing needs granting';
  if (f.privilege) {
    // 24.12 also grants `iq` (its namespaces are children, no type).
    const perms = f.privilege.perms.filter((p) => p.type !== 'none').map((p) => (p.type ? `${p.access} ${p.type}` : p.access)).join(', ') || 'nothing';
    const broken = ejabberd && ejabberdRosterSetBroken(software?.version);
    checks.push({
      feature: 'XEP-0356', status: 'info',
      text: `The server grants the component ${perms} (${f.privilege.ns}); ${unused}${broken ? ' (ejabberd before 23.10 fails every roster set anyway)' : ''}.`,
    });
  } else if (f.privilege === null) {
    checks.push({ feature: 'XEP-0356', status: 'info', text: `The server grants the component no privileges; ${unused}.` });
  } else if (componentWanted) {
    checks.push({ feature: 'XEP-0356', status: 'info', text: 'Not checked: the server announces privileges only to a component as it connects, and the running service holds the connection.' });
  }

  // In-band registration, as an unauthenticated client sees it.
  const r = f.registration;
  if ('error' in r) {
    checks.push({ feature: 'in-band registration', status: 'fail', text: `An unauthenticated client cannot open a stream at ${c.xmppService}: ${r.error}.` });
  } else if (f.bridge) {
    checks.push(r.advertised
      ? { feature: 'in-band registration', status: 'ok', text: `Open to clients, and the bridge ${c.registrationInviteOnly ? 'refuses it without an invite token (REGISTRATION_INVITE_ONLY)' : 'lets anyone register (REGISTRATION_INVITE_ONLY=false)'}.` }
      : {
        feature: 'in-band registration', status: 'fail', text: 'Closed: apps cannot create accounts with an invite token.',
        fix: ejabberd ? 'In ejabberd.yml: mod_register: access: register (with access_rules: register: allow: all); the bridge keeps it invite-only.' : 'In the VirtualHost: allow_registration = true and modules_enabled "register"; the bridge keeps it invite-only.',
      });
  } else {
    checks.push(r.advertised
      ? {
        feature: 'in-band registration', status: 'fail', text: `Open without the bridge: anyone can create an account, invite or not${ejabberd ? ' (ejabberd ignores XEP-0445 tokens)' : ''}.`,
        fix: ejabberd ? 'In ejabberd.yml: mod_register: access: none (or load the bridge).' : 'In the VirtualHost: allow_registration = false (or load the bridge).',
      }
      : { feature: 'in-band registration', status: 'ok', text: 'Closed: accounts are made only through invites (the web form).' });
  }
  return checks;
}

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', info: 'info' };

export function formatReport(checks: readonly Check[]): string {
  const lines = checks.flatMap((c) => [`[${MARK[c.status]}] ${c.feature}: ${c.text}`, ...(c.fix ? [`       fix: ${c.fix}`] : [])]);
  const failed = checks.filter((c) => c.status === 'fail').length;
  lines.push(failed ? `${failed} needed ${failed === 1 ? 'feature does' : 'features do'} not work.` : 'Everything this configuration needs works.');
  return lines.join('\n');
}

/** 0: everything needed works; 1: something does not. */
export function exitCode(checks: readonly Check[]): number {
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}
