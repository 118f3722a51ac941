// An invite that is valid but cannot work any more: its bound username was taken
// meanwhile, or the account it resets is gone. Told in a sentence, never a bare 409.
import type { FastifyReply } from 'fastify';
import type { Invite } from '../invites/types.js';
import { sendMessage, type Site } from './site.js';
import type { Visit } from './visit.js';

export type DeadEnd = { why: 'taken' | 'gone'; jid: string; username: string };

/** The dead end the server reports for `invite` (through the bridge's account query), or undefined when none or it cannot be asked. */
export async function deadEndOf(site: Site, invite: Invite): Promise<DeadEnd | undefined> {
  const username = invite.username;
  if (!username || (invite.kind !== 'account' && invite.kind !== 'reset')) return undefined;
  const jid = `${username}@${site.domain}`;
  const answer = await site.service.server?.account(jid).catch(() => undefined);
  if (!answer) return undefined;
  if (invite.kind === 'account' && answer.exists) return { why: 'taken', jid, username };
  if (invite.kind === 'reset' && !answer.exists) return { why: 'gone', jid, username };
  return undefined;
}

export function sendDeadEnd(site: Site, v: Visit, reply: FastifyReply, d: DeadEnd): FastifyReply {
  return sendMessage(site, v, reply, 409, v.t(`web.deadEnd.${d.why}.title`), v.t(`web.deadEnd.${d.why}.lead`, { jid: d.jid, username: d.username }));
}
