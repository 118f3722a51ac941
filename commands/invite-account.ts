import type { Command } from '../src/bot/command.js';
import { parseRole, ROLES, sortRoles } from '../src/invites/roles.js';
import { createWithOptions, GROUP, LIFETIME_NOTE, typedUsername, USES } from './created.js';

export const inviteAccount: Command = {
  name: 'invite account',
  key: 'inviteAccount',
  usage: 'invite account [USERNAME] [--role ROLE]…',
  who: 'admin',
  args: [0, 1],
  options: { role: { type: 'string', multiple: true }, ...USES, ...LIFETIME_NOTE, ...GROUP },
  run: (ctx) => createWithOptions(ctx, (o) => {
    const typed = (ctx.options.role as string[] | undefined) ?? [];
    const wrong = typed.find((r) => !parseRole(r));
    if (wrong !== undefined) return ctx.t('bot.badRole', { role: wrong.slice(0, 40), roles: ROLES.join(', ') });
    const roles = sortRoles(typed.map((r) => parseRole(r)!));
    return { kind: 'account', username: ctx.args[0] && typedUsername(ctx.args[0], ctx.service.domain), roles, ...o };
  }),
};
