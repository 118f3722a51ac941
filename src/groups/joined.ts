// What joining a group does on the server (the lead's GroupService emits a
// JoinedEvent): the new member and every other member become mutual contacts
// under the group's roster group; when the group has a room, it is added to the
// new member's bookmarks (XEP-0402) and the bot sends a direct invitation to it
// (XEP-0249). Each step that fails is logged (JIDs and group names only) and the
// others still run.
import type { Lang } from '../i18n/i18n.js';
import { log } from '../log.js';
import type { StepOutcome, XmppServer } from '../server/server.js';
import type { JoinedEvent } from './types.js';

export interface GroupJoinedDeps {
  /** The server seam; absent: nothing can be asked of the server here (no contacts, no bookmark). */
  server?: Pick<XmppServer, 'makeContacts' | 'addBookmark'>;
  bot: { inviteToRoom(to: string, room: string, reason?: string, lang?: Lang): void };
  /** The sentence of the room invitation and its language (the lead's catalogue); none: no reason. */
  invitation?: (e: JoinedEvent) => { reason?: string; lang?: Lang } | undefined;
  /** Befriend calls at a time (default 4): a large group is not asked of the server all at once. */
  concurrency?: number;
}

export interface GroupJoinedOutcome {
  /** Other members made contacts of the new one. */
  contacts: number;
  /** Other members who were not (failed, or the server cannot make contacts). */
  failed: number;
  /** The room is in the new member's bookmarks (false when the group has no room). */
  bookmarked: boolean;
  /** The direct invitation was sent (false when the group has no room). */
  invited: boolean;
}

const bare = (jid: string) => jid.split('/')[0]!.toLowerCase();

/** A failure is a warning; what this server cannot do at all is a plain note. */
const noted = (outcome: 'failed' | 'unsupported') => (outcome === 'failed' ? log.warn : log.info);

export async function groupJoined(e: JoinedEvent, deps: GroupJoinedDeps): Promise<GroupJoinedOutcome> {
  const { group, jid } = e;
  const { server } = deps;
  const label = `group ${JSON.stringify(group.name)}`;
  // Each other member once, never the new member itself (compared without resource or case; sent as given).
  const seen = new Set([bare(jid)]);
  const others = e.others.filter((o) => !seen.has(bare(o)) && seen.add(bare(o)));

  let contacts = 0;
  let failed = 0;
  if (others.length > 0) {
    if (!server) {
      failed = others.length;
      log.info(`${label}: ${jid} was not made a contact of its ${others.length} other member(s): the server cannot be asked here`);
    } else {
      let unsupported: string | undefined;
      const queue = [...others];
      const worker = async () => {
        for (let other = queue.shift(); other !== undefined; other = queue.shift()) {
          // The server cannot make contacts at all: no use asking for the others.
          if (unsupported) { failed++; continue; }
          const step: StepOutcome = await server.makeContacts(jid, other, group.name)
            .catch((err: Error) => ({ outcome: 'failed' as const, why: err.message }));
          if (step.outcome === 'done') { contacts++; continue; }
          failed++;
          if (step.outcome === 'unsupported') unsupported = step.why;
          else log.warn(`${label}: ${jid} and ${other} were not made contacts: ${step.why}`);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(deps.concurrency ?? 4, others.length)) }, worker));
      if (unsupported) log.info(`${label}: ${jid} was not made a contact of the other members: ${unsupported}`);
    }
  }

  let bookmarked = false;
  let invited = false;
  if (group.room) {
    const step: StepOutcome = server
      ? await server.addBookmark(jid, group.room, group.name).catch((err: Error) => ({ outcome: 'failed' as const, why: err.message }))
      : { outcome: 'unsupported', why: 'the server cannot be asked here' };
    bookmarked = step.outcome === 'done';
    if (step.outcome !== 'done') noted(step.outcome)(`${label}: ${group.room} was not added to the bookmarks of ${jid}: ${step.why}`);
    try {
      const words = deps.invitation?.(e);
      deps.bot.inviteToRoom(jid, group.room, words?.reason, words?.lang);
      invited = true;
    } catch (err) {
      log.warn(`${label}: ${jid} was not sent an invitation to ${group.room}: ${(err as Error).message}`);
    }
  }
  return { contacts, failed, bookmarked, invited };
}
