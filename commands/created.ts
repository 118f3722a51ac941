// Shared by the invite-creating commands: create, then word the answer.
import type { CommandContext } from '../src/bot/command.js';
import { describeCreated } from '../src/invites/describe.js';
import { localize } from '../src/invites/policy.js';
import type { CreateRequest } from '../src/invites/service.js';
import { qrCodeUrl } from '../src/web/links.js';

export async function createAndDescribe(ctx: CommandContext, req: CreateRequest): Promise<string> {
  const result = await ctx.service.create({ jid: ctx.sender }, req);
  if (!result.ok) return localize(result, ctx.t);
  if (result.landingUrl) ctx.attach(qrCodeUrl(result.landingUrl));
  return describeCreated(result, ctx.service.domain, ctx.now, ctx.lang);
}
