// What happens after an invite was used, wherever it was used (in-band through
// the bridge, or on the web): contacts are made, the inviter is told.
import type { Bot } from './bot/bot.js';
import type { Component } from './component/component.js';
import { prosodyRoles } from './component/bridge.js';
import { describeUse, toldOfUse } from './invites/describe.js';
import type { UsedEvent } from './invites/service.js';
import { log } from './log.js';

export interface FollowUpDeps {
  /** `languageOf`: the inviter is told in the language they last wrote to the bot in (else English). */
  bot: Pick<Bot, 'tell'> & Partial<Pick<Bot, 'languageOf'>>;
  component?: Pick<Component, 'befriend' | 'grant'>;
  domain: string;
}

/** What a follow-up did: whether the contacts were made (true when none were to be made), and the roles given. */
export interface FollowUpOutcome {
  contactsMade: boolean;
  granted: boolean;
}

/** Resolves false when a step that needed the server failed (logged): the relay then keeps it to try again. */
export async function followUp(e: UsedEvent, deps: FollowUpDeps): Promise<boolean> {
  const o = await followUpOutcome(e, deps);
  return o.contactsMade && o.granted;
}

/** followUp(), telling which step failed. */
export async function followUpOutcome(e: UsedEvent, deps: FollowUpDeps): Promise<FollowUpOutcome> {
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
  if (to) {
    const lang = deps.bot.languageOf?.(to) ?? 'en';
    deps.bot.tell(to, describeUse(e, contactsMade, lang), lang);
  }
  return { contactsMade, granted };
}

/** Outcomes kept at most (each for a minute). */
const MAX_OUTCOMES = 10_000;

/**
 * The outcomes of this instance's follow-ups, for the front end that made the use (the web
 * form's success page says "you are now contacts" only when they are). Kept a minute.
 */
export class FollowUpOutcomes {
  private readonly pending = new Map<string, Promise<FollowUpOutcome | undefined>>();

  /** `done`: the follow-up of `e` (undefined: done elsewhere, the outcome is not known here). */
  record(e: UsedEvent, done: Promise<FollowUpOutcome | undefined>): void {
    const key = `${e.invite.id} ${e.usedBy}`;
    const kept = done.catch(() => undefined);
    this.pending.delete(key);
    this.pending.set(key, kept);
    // A burst of in-band registrations must not grow this: the oldest go first (a page waits at most seconds).
    while (this.pending.size > MAX_OUTCOMES) this.pending.delete(this.pending.keys().next().value!);
    setTimeout(() => { if (this.pending.get(key) === kept) this.pending.delete(key); }, 60_000).unref();
  }

  /** The outcome of the follow-up of `usedBy`'s use of invite `inviteId`, or undefined if not known within `waitMs`. */
  async outcome(inviteId: string, usedBy: string, waitMs: number): Promise<FollowUpOutcome | undefined> {
    const done = this.pending.get(`${inviteId} ${usedBy}`);
    if (!done) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), waitMs); });
    try {
      return await Promise.race([done, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
