// What happens after an invite was used, wherever it was used (in-band through
// the bridge, or on the web): contacts are made, the inviter is told.
import type { Bot } from './bot/bot.js';
import type { Component } from './component/component.js';
import { prosodyRoles } from './component/bridge.js';
import { describeUse, toldOfUse } from './invites/describe.js';
import type { UsedEvent } from './invites/service.js';
import { log } from './log.js';

export interface FollowUpDeps {
  bot: Pick<Bot, 'tell'>;
  component?: Pick<Component, 'befriend' | 'grant'>;
  domain: string;
}

/** Resolves false when a step that needed the server failed (logged): the relay then keeps it to try again. */
export async function followUp(e: UsedEvent, deps: FollowUpDeps): Promise<boolean> {
  const { invite } = e;
  let contactsMade = true;
  let granted = true;
  // A subscription through a token was already approved by the bridge; a new
  // account from an account+contact invite still has to become a contact.
  if (invite.kind === 'account-contact' && e.purpose === 'register' && invite.inviter) {
    contactsMade = false;
    if (!deps.component) {
      log.warn(`invite ${invite.id}: ${e.usedBy} and ${invite.inviter} could not be made contacts: no component configured`);
    } else {
      contactsMade = await deps.component.befriend(deps.domain, invite.inviter, e.usedBy).then(() => true, (err: Error) => {
        log.warn(`invite ${invite.id}: making ${e.usedBy} and ${invite.inviter} contacts failed (is mod_invites_bridge loaded?): ${err.message}`);
        return false;
      });
    }
  }
  // Registrations the bridge did not see (the web form's add-user): the server is asked to give the roles now.
  const roles = e.purpose === 'register' && !e.rolesApplied ? prosodyRoles(invite) : undefined;
  if (roles) {
    if (!deps.component) {
      log.warn(`invite ${invite.id}: ${e.usedBy} has the roles ${invite.roles.join(', ')} in this service only: no component configured`);
    } else {
      granted = await deps.component.grant(deps.domain, e.usedBy, roles.split(' ')).then(() => true, (err: Error) => {
        log.warn(`invite ${invite.id}: giving ${e.usedBy} the roles ${roles} on the server failed (is mod_invites_bridge loaded?): ${err.message}`);
        return false;
      });
    }
  }
  const to = toldOfUse(invite);
  if (to) deps.bot.tell(to, describeUse(e, contactsMade));
  return contactsMade && granted;
}
