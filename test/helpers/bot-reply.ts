// The bot's reply to a command, as the person reads it in chat: what arrives
// meanwhile and answers nothing is skipped: notices ("x joined with your invite")
// and the QR code sent after an invite (a XEP-0066 attachment).
import xml, { type Element } from '@xmpp/xml';
import type { User } from './xmpp-user.js';

const NOTICE = /joined with your invite|added you as a contact|was reset with invite/;

const isReply = (el: Element) => !el.getChild('x', 'jabber:x:oob') && !NOTICE.test(el.getChildText('body') ?? '');

export async function botReply(user: User, bot: string, command: string, timeoutMs = 5000): Promise<string> {
  await user.send(xml('message', { to: bot, type: 'chat' }, xml('body', {}, command)));
  for (;;) {
    const el = await user.next(bot, timeoutMs);
    if (!el) throw new Error(`no reply from ${bot} to "${command.slice(0, 40)}"`);
    if (isReply(el)) return el.getChildText('body') ?? '';
  }
}

/** The `xmpp:` invite URI of the bot's reply (its own line); throws with the reply when there is none. */
export async function botInviteUri(user: User, bot: string, command: string): Promise<string> {
  const reply = await botReply(user, bot, command);
  const uri = /^xmpp:\S+$/m.exec(reply)?.[0];
  if (!uri) throw new Error(`no invite URI in ${JSON.stringify(reply)}`);
  return uri;
}
