import type { Command } from '../src/bot/command.js';

export const revoke: Command = {
  name: 'revoke',
  usage: 'revoke ID',
  summary: 'cancel one of your invites (administrators: anyone\'s); "invites" shows the ids',
  who: 'local',
  args: [1, 1],
  async run(ctx) {
    const result = await ctx.service.revoke({ jid: ctx.sender }, ctx.args[0]!);
    if (!result.ok) return `${result.message} Type "invites" to see their ids.`;
    return `Invite ${result.invite.id} is revoked: it can no longer be used.`;
  },
};
