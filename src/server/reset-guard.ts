// A new password only for an account known to exist: a reset never creates an
// account, and ejabberd writes the submitted password in clear into its crash
// report when change-user-password fails (no such account), so a missing
// account must be refused before the password leaves this process.
import type { AdminResult, XmppServer } from './server.js';

export async function changeExistingPassword(
  server: Pick<XmppServer, 'account'>,
  jid: string,
  /** The server's own unguarded change-user-password. */
  change: () => Promise<AdminResult>,
  /** Refuse when existence cannot be confirmed (ejabberd), rather than risk the password in its log. */
  mustConfirm: boolean,
): Promise<AdminResult> {
  const known = await server.account(jid).catch(() => undefined);
  if (known?.exists === false) return { ok: false, reason: 'no-such-user', message: `there is no account ${jid}` };
  if (!known && mustConfirm) {
    return { ok: false, reason: 'refused', message: `the server cannot confirm that ${jid} exists, so no password was sent` };
  }
  return change();
}
