import type { Command } from '../src/bot/command.js';
import { formatDuration } from '../src/i18n/i18n.js';

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
    // The options every invite command takes (the same names as the ad-hoc forms' and the CLI's).
    const options = hasInvite ? [ctx.t(ctx.admin ? 'bot.help.optionsAdmin' : 'bot.help.options', { max: formatDuration(ctx.service.settings.inviteExpiry, ctx.lang) })] : [];
    return [ctx.t('bot.help.title'), ...lines, ...options, ...also].join('\n');
  },
};
