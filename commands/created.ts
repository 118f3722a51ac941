// Shared by the invite-creating commands: the per-invite options (the same names in
// every front end: --uses, --expires-after, --group, --note), create, then word the answer.
import type { Command, CommandContext } from '../src/bot/command.js';
import { describeCreated } from '../src/invites/describe.js';
import { parseLifetime } from '../src/invites/lifetime.js';
import { localize } from '../src/invites/policy.js';
import { type CreateRequest, type InviteOptions, MAX_USES_LIMIT } from '../src/invites/service.js';
import { qrCodeUrl } from '../src/web/links.js';

/** A username as typed, or the local part of an address on this server ("alice@DOMAIN" is "alice", as the ad-hoc form takes it). */
export function typedUsername(word: string, domain: string): string {
  const at = word.lastIndexOf('@');
  return at > 0 && word.slice(at + 1).toLowerCase() === domain.toLowerCase() ? word.slice(0, at) : word;
}

type Options = NonNullable<Command['options']>;
/** --expires-after D and --note "TEXT": every invite may carry them. */
export const LIFETIME_NOTE: Options = { 'expires-after': { type: 'string' }, note: { type: 'string' } };
/** --group G (repeatable): the new account joins these groups (administrators; the core decides). */
export const GROUP: Options = { group: { type: 'string', multiple: true } };
/** --uses N: account invites (administrators). */
export const USES: Options = { uses: { type: 'string' } };

/** The options given, as the core takes them; a sentence when one cannot be read. */
export function inviteOptions(ctx: CommandContext): (InviteOptions & { maxUses?: number }) | string {
  const out: InviteOptions & { maxUses?: number } = {};
  const uses = ctx.options.uses as string | undefined;
  if (uses !== undefined) {
    if (!/^\d{1,6}$/.test(uses.trim())) return ctx.t('common.refusal.badUses', { max: MAX_USES_LIMIT });
    out.maxUses = Number(uses.trim());
  }
  const after = ctx.options['expires-after'] as string | undefined;
  if (after !== undefined) {
    const lifetime = parseLifetime(after);
    if (lifetime === undefined) return ctx.t('common.refusal.badLifetime');
    out.expiresAfter = lifetime;
  }
  const note = ctx.options.note as string | undefined;
  if (note !== undefined) out.note = note;
  const groups = ctx.options.group as string[] | undefined;
  if (groups?.length) out.groups = groups;
  return out;
}

export async function createAndDescribe(ctx: CommandContext, req: CreateRequest): Promise<string> {
  const result = await ctx.service.create({ jid: ctx.sender }, req);
  if (!result.ok) return localize(result, ctx.t);
  if (result.landingUrl) ctx.attach(qrCodeUrl(result.landingUrl));
  return describeCreated(result, ctx.service.domain, ctx.now, ctx.lang);
}

/** Read the options, then create: `make` builds the request from them. */
export async function createWithOptions(ctx: CommandContext, make: (o: InviteOptions & { maxUses?: number }) => CreateRequest | string | Promise<CreateRequest | string>): Promise<string> {
  const options = inviteOptions(ctx);
  if (typeof options === 'string') return options;
  const req = await make(options);
  return typeof req === 'string' ? req : createAndDescribe(ctx, req);
}
