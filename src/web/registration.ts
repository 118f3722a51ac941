// An account (or a new password) from the web form, through the invite core:
// check the form, reserve the token, have the server create the account
// (through the server seam: XEP-0133 run by the bot), then commit the use, or
// release it on failure.
// Knows nothing of HTTP, so every outcome is testable without a browser.
import type { Said } from '../invites/policy.js';
import { webSaid } from './said.js';
import { type InviteService, printable } from '../invites/service.js';
import type { Invite, InviteState } from '../invites/types.js';
import { log } from '../log.js';
import type { AccountAdmin } from '../server/server.js';
import { passwordRefusal } from './password-policy.js';

export interface RegistrationForm {
  token: string;
  /** Ignored when the invite names the account (bound account invites, resets). */
  username: string;
  password: string;
  confirm: string;
}

export type RegistrationResult =
  | { ok: true; jid: string; invite: Invite }
  /** The invite cannot be used: show the page for that state. */
  | { ok: false; state: Exclude<InviteState, 'valid'> }
  /** The invite names an account that was taken meanwhile (account) or is gone (reset): say so, no form. */
  | { ok: false; deadEnd: 'taken' | 'gone'; jid: string; username: string }
  /** Show the form again with this sentence (next to `field`), and this HTTP status. */
  | { ok: false; status: number; field?: 'username' | 'password'; said: Said };

/** The catalogue's sentence `web.form.KEY`, its English in `message` (a refusal of the core carries its own). */
const web = (key: string, vars?: Record<string, string | number>): Said => webSaid(`web.form.${key}`, vars);

/** Kinds that make (or reset) an account, and so have a web form. */
export function hasForm(invite: Invite): boolean {
  return invite.kind !== 'contact';
}

export async function registerWithInvite(service: InviteService, admin: AccountAdmin, form: RegistrationForm): Promise<RegistrationResult> {
  const found = await service.lookup(form.token);
  if (found.state !== 'valid') return { ok: false, state: found.state };
  const { invite } = found;
  if (!hasForm(invite)) return { ok: false, status: 400, said: web('contactOnly') };

  const typed = invite.username ?? form.username.trim();
  // A bound invite's name is stored as the server normalised it; a typed one is asked of the server.
  const username = invite.username ?? (typed ? await service.prepUsername(typed) : null);
  if (!typed) return { ok: false, status: 422, field: 'username', said: web('chooseUsername') };
  if (!username) return { ok: false, status: 422, field: 'username', said: web('badUsername', { username: printable(typed) }) };
  const weak = passwordRefusal(form.password, form.confirm, username);
  if (weak) return { ok: false, status: 422, field: 'password', said: weak };

  let held: Awaited<ReturnType<InviteService['reserve']>>;
  try {
    held = await service.reserve(form.token, { purpose: 'register', username }); // on disk before the server makes the account
  } catch (e) {
    log.error(`web: could not record the hold on invite ${invite.id}: ${(e as Error).message}`);
    return { ok: false, status: 503, said: web('ourFault') };
  }
  if (!held.ok) {
    switch (held.code) {
      case 'unknown': case 'expired': case 'revoked':
        return { ok: false, state: held.code };
      case 'used':
        return { ok: false, state: 'used' };
      case 'in-use':
        // Someone else's registration holds the last use right now.
        return { ok: false, status: 409, said: held };
      case 'bad-username': case 'username-mismatch': case 'username-taken':
        return { ok: false, status: 422, field: 'username', said: held };
      default:
        return { ok: false, status: 400, said: held };
    }
  }

  const jid = `${username}@${service.domain}`;
  const reset = invite.kind === 'reset';
  const done = reset ? await admin.changePassword(username, form.password) : await admin.addUser(username, form.password);
  if (!done.ok) {
    // No answer is taken as "not made" (a lost reply to a made account is the rare case).
    await service.release(held.reservation);
    switch (done.reason) {
      case 'exists':
        // A bound invite's name, taken since the invite was made: no other name can be typed.
        if (invite.username) return { ok: false, deadEnd: 'taken', jid, username };
        return { ok: false, status: 409, field: 'username', said: web('taken', { username }) };
      case 'no-such-user':
        return { ok: false, deadEnd: 'gone', jid, username };
      case 'unavailable':
        log.warn(`web: ${reset ? 'change-user-password' : 'add-user'} for ${jid} got no answer: ${done.message}`);
        return { ok: false, status: 503, said: web('unreachable') };
      case 'forbidden':
        log.error(`web: the server does not let the bot run ${reset ? 'change-user-password' : 'add-user'} (${done.message}): `
          + 'make BOT_JID a server admin (Prosody: admins = { ... }; ejabberd: acl: admin: user: ..., and access_rules: configure: allow: admin)');
        return { ok: false, status: 503, said: web('notAllowed', { domain: service.domain }) };
      default:
        log.info(`web: the server refused ${reset ? 'the new password' : 'the account'} for ${jid}: ${done.message}`);
        return { ok: false, status: 422, field: reset ? 'password' : 'username', said: web('serverRefused', { reason: printable(done.message, 200) }) };
    }
  }

  try {
    // With the token: the account exists, so the use is recorded even if the reservation was lost.
    const committed = await service.commit(held.reservation, jid, form.token);
    if (!committed.ok) log.error(`web: ${jid} was made with invite ${invite.id} but its use was not recorded: ${committed.message}`);
  } catch (e) {
    // The account exists either way: tell the person so, and the admin what failed.
    log.error(`web: recording the use of invite ${invite.id} by ${jid} failed: ${(e as Error).message}`);
  }
  log.info(`web: ${reset ? 'password reset for' : 'account created:'} ${jid} with invite ${invite.id}`);
  return { ok: true, jid, invite };
}
