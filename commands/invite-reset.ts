import type { Command } from '../src/bot/command.js';
import { createWithOptions, LIFETIME_NOTE, typedUsername } from './created.js';

export const inviteReset: Command = {
  name: 'invite reset',
  key: 'inviteReset',
  usage: 'invite reset USERNAME',
  who: 'admin',
  args: [1, 1],
  options: LIFETIME_NOTE,
  run: (ctx) => createWithOptions(ctx, (o) => ({ kind: 'reset', username: typedUsername(ctx.args[0]!, ctx.service.domain), ...o })),
};
