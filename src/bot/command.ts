// The shape of a text command (one module each under commands/).
import type { Lang, T } from '../i18n/i18n.js';
import type { GroupService } from '../groups/service.js';
import type { InviteService } from '../invites/service.js';

/** anyone: any sender; local: accounts of this server; admin: administrators. */
export type Audience = 'anyone' | 'local' | 'admin';

export interface CommandContext {
  /** Bare JID of the sender. */
  sender: string;
  admin: boolean;
  args: string[];
  /** Values of the command's --options, as given (repeatable ones as lists). */
  options: Record<string, string | boolean | string[] | undefined>;
  service: InviteService;
  /** The groups (absent where the service has none: the group commands say so). */
  groups?: GroupService;
  now: Date;
  /** The commands this sender may use (for help). */
  available: readonly Command[];
  /** Send `url` after the reply as an inline attachment (XEP-0066), e.g. the invite's QR code. */
  attach(url: string): void;
  /** What this command kept for this sender last time (e.g. where a long list got to), for a while. */
  kept: unknown;
  keep(value: unknown): void;
  /** The language of the message, and its catalogue. */
  lang: Lang;
  t: T;
}

export interface Command {
  /** The words that select it, lower case: "invite account". Always English (a client's language is not the person's). */
  name: string;
  /** Its catalogue entry, `bot.commands.KEY`: `summary` (for help), `wrong` (the sentence for wrong arguments), `usage` when it has placeholders to translate. */
  key: string;
  /** How to type it, in English: "invite account [USERNAME]". */
  usage: string;
  who: Audience;
  /** Accepted argument counts (words that are not --options). */
  args: [min: number, max: number];
  /** Its --options: `--role ROLE` is `{ role: { type: 'string', multiple: true } }`. */
  options?: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
  /** The reply text. */
  run(ctx: CommandContext): Promise<string>;
}
