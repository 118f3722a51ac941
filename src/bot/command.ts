// The shape of a text command (one module each under commands/).
import type { InviteService } from '../invites/service.js';

/** anyone: any sender; local: accounts of this server; admin: administrators. */
export type Audience = 'anyone' | 'local' | 'admin';

export interface CommandContext {
  /** Bare JID of the sender. */
  sender: string;
  admin: boolean;
  args: string[];
  service: InviteService;
  now: Date;
  /** The commands this sender may use (for help). */
  available: readonly Command[];
  /** Send `url` after the reply as an inline attachment (XEP-0066), e.g. the invite's QR code. */
  attach(url: string): void;
}

export interface Command {
  /** The words that select it, lower case: "invite account". */
  name: string;
  /** How to type it: "invite account [USERNAME]". */
  usage: string;
  summary: string;
  who: Audience;
  /** Accepted argument counts. */
  args: [min: number, max: number];
  /** The reply text. */
  run(ctx: CommandContext): Promise<string>;
}
