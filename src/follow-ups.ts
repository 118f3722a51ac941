// What happens after an invite was used, wherever it was used (in-band through
// the bridge, or on the web): contacts are made, the inviter is told.
import type { Bot } from './bot/bot.js';
import { describeUse, toldOfUse } from './invites/describe.js';
import type { UsedEvent } from './invites/service.js';
import { log } from './log.js';
import type { XmppServer } from './server/server.js';
import type { GroupService } from './groups/service.js';

export interface FollowUpDeps {
  /** `languageOf`: the inviter is told in the language they last wrote to the bot in (else English). */
  bot: Pick<Bot, 'tell'> & Partial<Pick<Bot, 'languageOf'>>;
  /** The server seam; absent: nothing can be asked of the server here. */
  server?: Pick<XmppServer, 'makeContacts' | 'grantRoles' | 'grantsRoles'>;
  /** The groups an invite names are joined here (each join's own follow-up makes the contacts). */
  groups?: Pick<GroupService, 'add'>;
}

/**
 * What a follow-up did: whether the contacts were made (true when none were to be made), and
 * whether the roles were given on the server (true when none were to be given). `cannot` names
 * the steps this server cannot do at all (no bridge; ejabberd's roles): not worth trying again.
 */
export interface FollowUpOutcome {
  contactsMade: boolean;
  granted: boolean;
  cannot?: ('contacts' | 'roles')[];
}

/** A failure is a warning; what this server cannot do at all was said once when its adapter was chosen: a plain note. */
const noted = (outcome: 'failed' | 'unsupported') => (outcome === 'failed' ? log.warn : log.info);

/** Resolves false when a step that needed the server failed (logged): the relay then keeps it to try again. */
export async function followUp(e: UsedEvent, deps: FollowUpDeps): Promise<boolean> {
  const o = await followUpOutcome(e, deps);
  const cannot = o.cannot ?? [];
  return (o.contactsMade || cannot.includes('contacts')) && (o.granted || cannot.includes('roles'));
}

/** followUp(), telling which step failed. */
export async function followUpOutcome(e: UsedEvent, deps: FollowUpDeps): Promise<FollowUpOutcome> {
  const { invite } = e;
  const { server } = deps;
  let contactsMade = true;
  let granted = true;
  const cannot: ('contacts' | 'roles')[] = [];
  // A subscription through a token was already approved by the bridge; a new
  // account from an account+contact invite still has to become a contact.
  if (invite.kind === 'account-contact' && e.purpose === 'register' && invite.inviter) {
    const step = server ? await server.makeContacts(invite.inviter, e.usedBy) : { outcome: 'unsupported' as const, why: 'the server cannot be asked here' };
    contactsMade = step.outcome === 'done';
    if (step.outcome === 'unsupported') cannot.push('contacts');
    if (step.outcome !== 'done') noted(step.outcome)(`invite ${invite.id}: ${e.usedBy} and ${invite.inviter} were not made contacts: ${step.why}`);
  }
  // Registrations the bridge did not see (the web form's add-user): the server is asked to give the roles now.
  const roles = invite.kind === 'account' && e.purpose === 'register' ? invite.roles : [];
  if (roles.length > 0 && !e.rolesApplied) {
    const step = server ? await server.grantRoles(e.usedBy, roles) : { outcome: 'unsupported' as const, why: 'the server cannot be asked here' };
    granted = step.outcome === 'done';
    if (step.outcome === 'unsupported') cannot.push('roles');
    if (step.outcome !== 'done') noted(step.outcome)(`invite ${invite.id}: ${e.usedBy} has the roles ${roles.join(', ')} in this service only: ${step.why}`);
  }
  // A new account joins the invite's groups; the group's follow-up (groups/joined.ts) makes it every member's contact.
  if (e.purpose === 'register' && invite.kind !== 'reset' && invite.groups?.length && deps.groups) {
    for (const name of invite.groups) {
      const r = await deps.groups.add({ system: 'cli' }, name, e.usedBy, 'invite');
      if (!r.ok && r.code !== 'member') log.warn(`invite ${invite.id}: ${e.usedBy} did not join the group ${name}: ${r.message}`);
    }
  }
  // The bridge says it gave them at registration; on a server without roles (ejabberd) it gave none.
  const rolesOnServer = roles.length > 0 && (e.rolesApplied ? server?.grantsRoles === true : granted);
  const to = toldOfUse(invite);
  if (to) {
    const lang = deps.bot.languageOf?.(to) ?? 'en';
    deps.bot.tell(to, describeUse(e, contactsMade, lang, roles.length === 0 || rolesOnServer), lang);
  }
  return { contactsMade, granted, ...(cannot.length ? { cannot } : {}) };
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
