// Does an account exist? Asked with XEP-0133 where no bridge can be asked, in
// the one way each server answers truthfully (seen on Prosody 0.12.3 and 13.0.1,
// ejabberd 23.01):
// - Prosody: user-stats answers a result form for an account, and a note
//   "User does not exist" for none (get-user-lastlogin: service-unavailable).
// - ejabberd: user-stats answers a form for any name at all, so it tells
//   nothing; get-user-lastlogin answers "Never" for no account, and a time (or
//   "Online") for one, since mod_last records every registration. Without
//   mod_last (no jabber:iq:last in the server's features) it says "Never" for
//   everyone: then existence is not known.
// Neither command carries a password.
import { type AdminCommands, GET_USER_LASTLOGIN, USER_STATS } from '../../xmpp/admin-commands.js';
import type { Software } from '../server.js';

export type ExistenceProbe = (jid: string) => Promise<boolean | undefined>;

// Asked before deciding on a bot command too (is the sender a server admin?): a short wait, as the bridge's.
const PROBE_TIMEOUT_MS = 3_000;

export function existenceProbe(admin: AdminCommands, software: Software | undefined, features: readonly string[]): ExistenceProbe {
  if (software?.name === 'ejabberd') {
    if (!features.includes('jabber:iq:last')) return async () => undefined;
    return async (jid) => {
      const r = await admin.run(GET_USER_LASTLOGIN, { accountjid: jid }, PROBE_TIMEOUT_MS);
      const last = r.ok ? r.values.lastlogin?.trim() : undefined;
      if (!last) return undefined;
      return last !== 'Never';
    };
  }
  const trustForm = software?.name === 'prosody';
  return async (jid) => {
    const r = await admin.run(USER_STATS, { accountjid: jid }, PROBE_TIMEOUT_MS);
    if (r.ok) return trustForm ? true : undefined; // another server may answer a form for any name, as ejabberd does
    return r.reason === 'no-such-user' ? false : undefined;
  };
}
