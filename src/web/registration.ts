// An account (or a new password) from the web form, through the invite core:
// check the form, reserve the token, have the server create the account
// (XEP-0133, run by the bot), then commit the use, or release it on failure.
// Knows nothing of HTTP, so every outcome is testable without a browser.
import { type InviteService, printable } from '../invites/service.js';
import type { Invite, InviteState } from '../invites/types.js';
import { log } from '../log.js';
import type { AccountAdmin } from '../xmpp/admin-commands.js';
import { passwordProblem } from './password-policy.js';

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
  /** Show the form again with this message (next to `field`), and this HTTP status. */
  | { ok: false; status: number; field?: 'username' | 'password'; message: string };

export const USERNAME_HINT = 'Use letters, digits and symbols such as . - _ but no spaces or any of " & \' / : < > @.';

/** Kinds that make (or reset) an account, and so have a web form. */
export function hasForm(invite: Invite): boolean {
  return invite.kind !== 'contact';
}

export async function registerWithInvite(service: InviteService, admin: AccountAdmin, form: RegistrationForm): Promise<RegistrationResult> {
  const found = await service.lookup(form.token);
  if (found.state !== 'valid') return { ok: false, state: found.state };
  const { invite } = found;
  if (!hasForm(invite)) return { ok: false, status: 400, message: 'This invite adds a contact; it does not create an account.' };

  const typed = invite.username ?? form.username.trim();
  // A bound invite's name is stored as the server normalised it; a typed one is asked of the server.
  const username = invite.username ?? (typed ? await service.prepUsername(typed) : null);
  if (!typed) return { ok: false, status: 422, field: 'username', message: 'Choose a username.' };
  if (!username) return { ok: false, status: 422, field: 'username', message: `"${printable(typed)}" cannot be a username: see the rules above.` };
  const weak = passwordProblem(form.password, form.confirm, username);
  if (weak) return { ok: false, status: 422, field: 'password', message: weak };

  let held: Awaited<ReturnType<InviteService['reserve']>>;
  try {
    held = await service.reserve(form.token, { purpose: 'register', username }); // on disk before the server makes the account
  } catch (e) {
    log.error(`web: could not record the hold on invite ${invite.id}: ${(e as Error).message}`);
    return { ok: false, status: 503, message: 'Something went wrong on our side. Nothing was changed; please try again in a few minutes.' };
  }
  if (!held.ok) {
    switch (held.code) {
      case 'unknown': case 'expired': case 'revoked':
        return { ok: false, state: held.code };
      case 'used':
        return { ok: false, state: 'used' };
      case 'in-use':
        // Someone else's registration holds the last use right now.
        return { ok: false, status: 409, message: held.message };
      case 'bad-username': case 'username-mismatch': case 'username-taken':
        return { ok: false, status: 422, field: 'username', message: held.message };
      default:
        return { ok: false, status: 400, message: held.message };
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
        return { ok: false, status: 409, field: 'username', message: `The username "${username}" is already taken. Choose another one.` };
      case 'no-such-user':
        return { ok: false, status: 409, message: `There is no account ${jid} to reset.` };
      case 'unavailable':
        log.warn(`web: ${reset ? 'change-user-password' : 'add-user'} for ${jid} got no answer: ${done.message}`);
        return { ok: false, status: 503, message: 'The chat server cannot be reached right now. Nothing was changed; please try again in a few minutes.' };
      default:
        log.info(`web: the server refused ${reset ? 'the new password' : 'the account'} for ${jid}: ${done.message}`);
        return { ok: false, status: 422, field: reset ? 'password' : 'username', message: `The server refused this: ${printable(done.message, 200)}` };
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
