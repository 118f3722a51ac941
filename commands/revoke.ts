import type { Command } from '../src/bot/command.js';
import { localize } from '../src/invites/policy.js';

export const revoke: Command = {
  name: 'revoke',
  key: 'revoke',
  usage: 'revoke ID',
  who: 'local',
  args: [1, 1],
  async run(ctx) {
    const result = await ctx.service.revoke({ jid: ctx.sender }, ctx.args[0]!);
    if (!result.ok) return `${localize(result, ctx.t)} ${ctx.t('bot.revoke.seeIds')}`;
    return ctx.t('common.revoked', { id: result.invite.id });
  },
};
