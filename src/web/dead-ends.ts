// An invite that is valid but cannot work any more: its bound username was taken
// meanwhile, or the account it resets is gone. Told in a sentence, never a bare 409.
import type { FastifyReply } from 'fastify';
import type { Invite } from '../invites/types.js';
import { sendMessage, type Site } from './site.js';
import type { Visit } from './visit.js';

export type DeadEnd = { why: 'taken' | 'gone'; jid: string; username: string };

/** The dead end the server reports for `invite` (the core asks it, through the bridge), or undefined when none or it cannot be asked. */
export async function deadEndOf(site: Site, invite: Invite): Promise<DeadEnd | undefined> {
  const why = await site.service.deadEnd(invite.kind, invite.username);
  if (!why || !invite.username) return undefined;
  return { why: why === 'username-taken' ? 'taken' : 'gone', jid: `${invite.username}@${site.domain}`, username: invite.username };
}

export function sendDeadEnd(site: Site, v: Visit, reply: FastifyReply, d: DeadEnd): FastifyReply {
  return sendMessage(site, v, reply, 409, v.t(`web.deadEnd.${d.why}.title`), v.t(`web.deadEnd.${d.why}.lead`, { jid: d.jid, username: d.username }));
}
