import type { Command } from '../src/bot/command.js';

export const help: Command = {
  name: 'help',
  key: 'help',
  usage: 'help',
  who: 'anyone',
  args: [0, 0],
  async run(ctx) {
    const usage = (c: Command) => ctx.t(`bot.commands.${c.key}.usage`, { defaultValue: c.usage });
    const width = Math.max(...ctx.available.map((c) => usage(c).length));
    const lines = ctx.available.map((c) => `${usage(c).padEnd(width)}  ${ctx.t(`bot.commands.${c.key}.summary`)}`);
    // The language's own words for "invite" and "help", where it has them.
    const aliases = { invite: ctx.t('bot.alias.invite'), help: ctx.t('bot.alias.help') };
    const hasInvite = ctx.available.some((c) => c.name === 'invite');
    const also = hasInvite && aliases.invite !== 'invite' ? [ctx.t('bot.help.aliases', aliases)] : [];
    return [ctx.t('bot.help.title'), ...lines, ...also].join('\n');
  },
};
