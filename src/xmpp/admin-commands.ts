// XEP-0133 service administration, run by the bot (a server admin) over its own
// connection: create an account, or set a user's password, for the web side.
import type { Client } from '@xmpp/client';
import { type Element, xml } from './stanzas.js';

const NS_COMMANDS = 'http://jabber.org/protocol/commands';
const NS_ADMIN = 'http://jabber.org/protocol/admin';
const NS_DATA = 'jabber:x:data';
export const ADD_USER = `${NS_ADMIN}#add-user`;
export const CHANGE_USER_PASSWORD = `${NS_ADMIN}#change-user-password`;

/** How an admin command ended. `message` is the server's own words (safe to show, never contains the password). */
export type AdminResult =
  | { ok: true }
  | { ok: false; reason: 'exists' | 'no-such-user' | 'refused'; message: string }
  | { ok: false; reason: 'unavailable'; message: string };

/** What the web side needs from the server; a fake can stand in for it in tests. */
export interface AccountAdmin {
  addUser(username: string, password: string): Promise<AdminResult>;
  changePassword(username: string, password: string): Promise<AdminResult>;
}

type IqCaller = Pick<Client['iqCaller'], 'request'>;

function command(node: string, attrs: Record<string, string>, ...children: Element[]): Element {
  return xml('command', { xmlns: NS_COMMANDS, node, ...attrs }, ...children);
}

function submitForm(values: Record<string, string>): Element {
  return xml('x', { xmlns: NS_DATA, type: 'submit' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_ADMIN)),
    ...Object.entries(values).map(([name, value]) => xml('field', { var: name }, xml('value', {}, value))));
}

/** The words of the first error note, if the command reported one. */
function errorNote(cmd: Element): string | undefined {
  // Prosody reports a refusal as a completed command with <note type='error'>, not as an IQ error.
  const note = cmd.getChildren('note').find((n) => n.attrs.type === 'error');
  return note ? note.text().trim() || 'The server refused the request.' : undefined;
}

export class AdminCommands implements AccountAdmin {
  constructor(
    private readonly iq: IqCaller,
    /** The server's domain: commands go to it, accounts are made on it. */
    private readonly domain: string,
    private readonly timeoutMs = 15_000,
  ) {}

  addUser(username: string, password: string): Promise<AdminResult> {
    return this.run(ADD_USER, { accountjid: `${username}@${this.domain}`, password, 'password-verify': password });
  }

  changePassword(username: string, password: string): Promise<AdminResult> {
    return this.run(CHANGE_USER_PASSWORD, { accountjid: `${username}@${this.domain}`, password });
  }

  /** execute → the server's form (with a session id) → complete with our values. */
  private async run(node: string, values: Record<string, string>): Promise<AdminResult> {
    let cmd: Element;
    try {
      const first = await this.call(command(node, { action: 'execute' }));
      const sessionid = first.attrs.sessionid;
      const refused = errorNote(first);
      if (refused) return this.classify(refused);
      if (first.attrs.status !== 'executing' || typeof sessionid !== 'string') {
        return { ok: false, reason: 'refused', message: `Unexpected answer to ${node}: status ${first.attrs.status ?? 'missing'}.` };
      }
      cmd = await this.call(command(node, { sessionid, action: 'complete' }, submitForm(values)));
    } catch (e) {
      // An IQ error (e.g. forbidden: the bot is not an admin) or no answer in time.
      return { ok: false, reason: 'unavailable', message: (e as Error).message || String(e) };
    }
    const refused = errorNote(cmd);
    if (refused) return this.classify(refused);
    if (cmd.attrs.status !== 'completed') return { ok: false, reason: 'refused', message: `The command ended as ${cmd.attrs.status ?? 'unknown'}.` };
    return { ok: true };
  }

  private async call(child: Element): Promise<Element> {
    const res = await this.iq.request(xml('iq', { type: 'set', to: this.domain }, child), this.timeoutMs);
    const cmd = res.getChild('command', NS_COMMANDS);
    if (!cmd) throw new Error('The server answered without a command.');
    return cmd;
  }

  private classify(message: string): AdminResult {
    // Prosody's words (mod_admin_adhoc); other servers fall back to "refused" with their text.
    if (/already exists/i.test(message)) return { ok: false, reason: 'exists', message };
    if (/does not exist|not found|no such user/i.test(message)) return { ok: false, reason: 'no-such-user', message };
    return { ok: false, reason: 'refused', message };
  }
}
