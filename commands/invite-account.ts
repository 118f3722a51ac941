import type { Command } from '../src/bot/command.js';
import { parseRoles } from '../src/invites/roles.js';
import { createAndDescribe } from './created.js';

export const inviteAccount: Command = {
  name: 'invite account',
  usage: 'invite account [USERNAME] [--role ROLE]…',
  summary: 'an invite to create one account, optionally only with that username and with roles such as admin or member',
  who: 'admin',
  args: [0, 1],
  options: { role: { type: 'string', multiple: true } },
  run: async (ctx) => {
    const roles = parseRoles((ctx.options.role as string[] | undefined) ?? []);
    if ('message' in roles) return roles.message;
    return createAndDescribe(ctx, { kind: 'account', username: ctx.args[0], roles: roles.roles });
  },
};
