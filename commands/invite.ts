import type { Command } from '../src/bot/command.js';
import { createAndDescribe } from './created.js';

export const invite: Command = {
  name: 'invite',
  key: 'invite',
  usage: 'invite',
  who: 'local',
  args: [0, 0],
  run: async (ctx) => createAndDescribe(ctx, { kind: await ctx.service.defaultContactKind({ jid: ctx.sender }) }),
};
