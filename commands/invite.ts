import type { Command } from '../src/bot/command.js';
import { createWithOptions, GROUP, LIFETIME_NOTE } from './created.js';

export const invite: Command = {
  name: 'invite',
  key: 'invite',
  usage: 'invite',
  who: 'local',
  args: [0, 0],
  // --group is read so that the core can say who may use it (administrators, whose plain invite makes an account).
  options: { ...LIFETIME_NOTE, ...GROUP },
  run: (ctx) => createWithOptions(ctx, async (o) => ({ kind: await ctx.service.defaultContactKind({ jid: ctx.sender }), ...o })),
};
