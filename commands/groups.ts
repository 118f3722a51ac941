// Groups in chat (administrators): create, delete, add and remove members, list.
// Names may be quoted to hold spaces ("group create "Berlin meetup""); the core decides.
import type { Command, CommandContext } from '../src/bot/command.js';
import type { GroupService } from '../src/groups/service.js';
import type { Group } from '../src/groups/types.js';
import { localize } from '../src/invites/policy.js';

/** Members named in the list at most; the count says the rest. */
const SHOWN_MEMBERS = 20;

/** A name as it is typed back: quoted when it has spaces. */
export function typedName(name: string): string {
  return /\s/.test(name) ? `"${name}"` : name;
}

function withGroups(ctx: CommandContext, run: (groups: GroupService) => Promise<string>): Promise<string> {
  return ctx.groups ? run(ctx.groups) : Promise.resolve(ctx.t('bot.groups.unavailable'));
}

function groupLine(ctx: CommandContext, g: Group): string {
  const { t } = ctx;
  const room = g.room ? t('bot.groups.room', { room: g.room }) : t('bot.groups.noRoom');
  const names = g.members.slice(0, SHOWN_MEMBERS).join(', ') + (g.members.length > SHOWN_MEMBERS ? ', …' : '');
  const members = g.members.length ? t('bot.groups.members', { count: g.members.length, members: names }) : t('bot.groups.noMembers');
  return `${typedName(g.name)}  ${room}  ${members}`;
}

export const groups: Command = {
  name: 'groups',
  key: 'groups',
  usage: 'groups',
  who: 'admin',
  args: [0, 0],
  run: (ctx) => withGroups(ctx, async (gs) => {
    const all = await gs.list();
    if (all.length === 0) return ctx.t('bot.groups.none');
    return [ctx.t('bot.groups.count', { count: all.length }), ...all.map((g) => groupLine(ctx, g))].join('\n');
  }),
};

export const groupCreate: Command = {
  name: 'group create',
  key: 'groupCreate',
  usage: 'group create NAME [ROOM_JID]',
  who: 'admin',
  args: [1, 2],
  run: (ctx) => withGroups(ctx, async (gs) => {
    const r = await gs.create({ jid: ctx.sender }, ctx.args[0]!, ctx.args[1]);
    if (!r.ok) return localize(r, ctx.t);
    const vars = { name: r.group.name, typed: typedName(r.group.name), room: r.group.room ?? '' };
    return ctx.t(r.group.room ? 'bot.groups.createdRoom' : 'bot.groups.created', vars);
  }),
};

export const groupDelete: Command = {
  name: 'group delete',
  key: 'groupDelete',
  usage: 'group delete NAME',
  who: 'admin',
  args: [1, 1],
  run: (ctx) => withGroups(ctx, async (gs) => {
    const r = await gs.delete({ jid: ctx.sender }, ctx.args[0]!);
    return r.ok ? ctx.t('bot.groups.deleted', { name: r.group.name }) : localize(r, ctx.t);
  }),
};

export const groupAdd: Command = {
  name: 'group add',
  key: 'groupAdd',
  usage: 'group add NAME JID',
  who: 'admin',
  args: [2, 2],
  run: (ctx) => withGroups(ctx, async (gs) => {
    const r = await gs.add({ jid: ctx.sender }, ctx.args[0]!, ctx.args[1]!);
    return r.ok ? ctx.t('bot.groups.added', { name: r.group.name, jid: r.jid }) : localize(r, ctx.t);
  }),
};

export const groupRemove: Command = {
  name: 'group remove',
  key: 'groupRemove',
  usage: 'group remove NAME JID',
  who: 'admin',
  args: [2, 2],
  run: (ctx) => withGroups(ctx, async (gs) => {
    const r = await gs.remove({ jid: ctx.sender }, ctx.args[0]!, ctx.args[1]!);
    return r.ok ? ctx.t('bot.groups.removed', { name: r.group.name, jid: r.jid }) : localize(r, ctx.t);
  }),
};
