// Shared by the invite-creating commands: create, then word the answer.
import type { CommandContext } from '../src/bot/command.js';
import { describeCreated } from '../src/invites/describe.js';
import { localize } from '../src/invites/policy.js';
import type { CreateRequest } from '../src/invites/service.js';
import { qrCodeUrl } from '../src/web/links.js';

/** A username as typed, or the local part of an address on this server ("alice@DOMAIN" is "alice", as the ad-hoc form takes it). */
export function typedUsername(word: string, domain: string): string {
  const at = word.lastIndexOf('@');
  return at > 0 && word.slice(at + 1).toLowerCase() === domain.toLowerCase() ? word.slice(0, at) : word;
}

export async function createAndDescribe(ctx: CommandContext, req: CreateRequest): Promise<string> {
  const result = await ctx.service.create({ jid: ctx.sender }, req);
  if (!result.ok) return localize(result, ctx.t);
  if (result.landingUrl) ctx.attach(qrCodeUrl(result.landingUrl));
  return describeCreated(result, ctx.service.domain, ctx.now, ctx.lang);
}
