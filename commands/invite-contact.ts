import type { Command } from '../src/bot/command.js';
import { createWithOptions, LIFETIME_NOTE } from './created.js';

export const inviteContact: Command = {
  name: 'invite contact',
  key: 'inviteContact',
  usage: 'invite contact',
  who: 'local',
  args: [0, 0],
  options: LIFETIME_NOTE,
  run: (ctx) => createWithOptions(ctx, (o) => ({ kind: 'contact', ...o })),
};
