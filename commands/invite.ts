import type { Command } from '../src/bot/command.js';
import { createAndDescribe } from './created.js';

export const invite: Command = {
  name: 'invite',
  usage: 'invite',
  summary: 'an invite that makes someone your contact (and creates their account, where allowed)',
  who: 'local',
  args: [0, 0],
  run: async (ctx) => createAndDescribe(ctx, { kind: await ctx.service.defaultContactKind({ jid: ctx.sender }) }),
};
