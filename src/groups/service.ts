// Groups, as the invite core decides them: only administrators (and the local
// operator) create groups and change their members; a group's members are local
// accounts. Front ends (chat, ad-hoc, CLI, API) translate to these calls; the
// follow-up of a join (contacts, bookmark, room invitation) is src/groups/joined.ts.
import { EventEmitter } from 'node:events';
import type { Said } from '../invites/policy.js';
import type { ServerAccounts } from '../invites/service.js';
import { isLocal, said } from '../invites/policy.js';
import { creatorName, printable } from '../invites/service.js';
import type { Actor } from '../invites/types.js';
import type { InviteStore } from '../store/store.js';
import type { Group, JoinedEvent } from './types.js';

export type GroupRefusal = { ok: false; code: 'not-admin' | 'bad-name' | 'bad-room' | 'bad-member' | 'exists' | 'not-found' | 'member' | 'not-member' | 'too-many' | 'no-account' } & Said;
export type GroupResult<T> = ({ ok: true } & T) | GroupRefusal;

interface GroupsDoc {
  groups: Group[];
}

/** Groups at most, and members of one group at most: a group's joins cost a contact per member. */
export const MAX_GROUPS = 500;
export const MAX_MEMBERS = 1000;
export const MAX_GROUP_NAME = 64;

const refuse = (code: GroupRefusal['code'], key: string, vars?: Record<string, string | number>): GroupRefusal => ({ ok: false, code, ...said(key, vars) });

/** A name to compare by: case does not tell two groups apart. */
const keyOf = (name: string) => tidyName(name).toLowerCase();

/** A name as kept: NFC, runs of spaces (no-break ones too) one space, so what chat can type finds it. */
const tidyName = (name: string) => name.normalize('NFC').replace(/\s+/gu, ' ').trim();

/** The group called `name`, whatever its case and spacing. */
const findGroup = (groups: readonly Group[], name: string) => groups.find((g) => keyOf(g.name) === keyOf(name));

export interface GroupEvents {
  joined: [JoinedEvent];
}

export class GroupService extends EventEmitter<GroupEvents> {
  /** Set by the app when the server can be asked: an admin cannot add an account that does not exist. */
  server?: ServerAccounts;
  constructor(
    private readonly store: InviteStore,
    private readonly domain: string,
    /** Is this account an administrator? (The invite core's isAdmin, after refreshAdmin.) */
    private readonly isAdmin: (jid: string) => boolean,
    private readonly now: () => Date = () => new Date(),
  ) {
    super();
  }

  private admitted(actor: Actor): boolean {
    return 'system' in actor || this.isAdmin(actor.jid);
  }

  async list(): Promise<Group[]> {
    const doc = (await this.store.getDoc('groups')) as GroupsDoc | undefined;
    return doc?.groups ?? [];
  }

  async get(name: string): Promise<Group | undefined> {
    return findGroup(await this.list(), name);
  }

  /** One change of the groups document, in one step (the store's changeDoc); `fn` gets the groups, never undefined. */
  private changeGroups<T>(fn: (doc: GroupsDoc) => { write: boolean; value: T }): Promise<T> {
    return this.store.changeDoc('groups', (d) => {
      const doc = (d as GroupsDoc | undefined) ?? { groups: [] };
      return { ...fn(doc), doc };
    });
  }

  /** The groups these names are, as stored (their own spelling), or the sentence naming the first that is none. */
  async resolve(names: readonly string[]): Promise<{ ok: true; names: string[] } | GroupRefusal> {
    const all = await this.list();
    const out: string[] = [];
    for (const n of names) {
      const g = findGroup(all, n);
      if (!g) return refuse('not-found', 'refusal.noGroup', { name: printable(n) });
      if (!out.includes(g.name)) out.push(g.name);
    }
    return { ok: true, names: out };
  }

  async create(actor: Actor, name: string, room?: string): Promise<GroupResult<{ group: Group }>> {
    if (!this.admitted(actor)) return refuse('not-admin', 'refusal.groupsAdmin');
    const clean = tidyName(name);
    if (!validName(clean)) return refuse('bad-name', 'refusal.badGroupName', { name: printable(name), max: MAX_GROUP_NAME });
    let roomJid: string | undefined;
    if (room !== undefined && room.trim() !== '') {
      roomJid = bareRoom(room);
      if (!roomJid) return refuse('bad-room', 'refusal.badRoom', { room: printable(room) });
    }
    const group: Group = { name: clean, ...(roomJid ? { room: roomJid } : {}), members: [], createdAt: this.now().toISOString(), createdBy: creatorName(actor) };
    return this.changeGroups((doc): { write: boolean; value: GroupResult<{ group: Group }> } => {
      const existing = findGroup(doc.groups, clean);
      if (existing) return { write: false, value: refuse('exists', 'refusal.groupExists', { name: existing.name }) };
      if (doc.groups.length >= MAX_GROUPS) return { write: false, value: refuse('too-many', 'refusal.tooManyGroups', { max: MAX_GROUPS }) };
      doc.groups.push(group);
      return { write: true, value: { ok: true, group } };
    });
  }

  async delete(actor: Actor, name: string): Promise<GroupResult<{ group: Group }>> {
    if (!this.admitted(actor)) return refuse('not-admin', 'refusal.groupsAdmin');
    return this.changeGroups((doc): { write: boolean; value: GroupResult<{ group: Group }> } => {
      const group = findGroup(doc.groups, name);
      if (!group) return { write: false, value: refuse('not-found', 'refusal.noGroup', { name: printable(name) }) };
      doc.groups.splice(doc.groups.indexOf(group), 1);
      return { write: true, value: { ok: true, group } };
    });
  }

  /**
   * Make `member` (a local account: `alice` or `alice@DOMAIN`) a member of the group;
   * emits 'joined' so the follow-up makes it every other member's contact. An invite's
   * new account is added with the local operator's rights and `via` 'invite'.
   */
  async add(actor: Actor, name: string, member: string, via: JoinedEvent['via'] = 'added'): Promise<GroupResult<{ group: Group; jid: string }>> {
    if (!this.admitted(actor)) return refuse('not-admin', 'refusal.groupsAdmin');
    const jid = this.memberJid(member);
    if (!jid) return refuse('bad-member', 'refusal.badMember', { jid: printable(member), domain: this.domain });
    if (via === 'added' && (await this.server?.account(jid).catch(() => undefined))?.exists === false) {
      return refuse('no-account', 'refusal.noMemberAccount', { jid });
    }
    const r = await this.changeGroups((doc): { write: boolean; value: GroupResult<{ group: Group; jid: string; others: string[] }> } => {
      const g = findGroup(doc.groups, name);
      if (!g) return { write: false, value: refuse('not-found', 'refusal.noGroup', { name: printable(name) }) };
      if (g.members.includes(jid)) return { write: false, value: refuse('member', 'refusal.alreadyMember', { jid, name: g.name }) };
      if (g.members.length >= MAX_MEMBERS) return { write: false, value: refuse('too-many', 'refusal.groupFull', { name: g.name, max: MAX_MEMBERS }) };
      const others = g.members.slice();
      g.members.push(jid);
      return { write: true, value: { ok: true, group: g, jid, others } };
    });
    if (!r.ok) return r;
    this.emit('joined', { group: r.group, jid, others: r.others, via });
    return { ok: true, group: r.group, jid };
  }

  async remove(actor: Actor, name: string, member: string): Promise<GroupResult<{ group: Group; jid: string }>> {
    if (!this.admitted(actor)) return refuse('not-admin', 'refusal.groupsAdmin');
    const jid = this.memberJid(member);
    if (!jid) return refuse('bad-member', 'refusal.badMember', { jid: printable(member), domain: this.domain });
    return this.changeGroups((doc): { write: boolean; value: GroupResult<{ group: Group; jid: string }> } => {
      const g = findGroup(doc.groups, name);
      if (!g) return { write: false, value: refuse('not-found', 'refusal.noGroup', { name: printable(name) }) };
      const i = g.members.indexOf(jid);
      if (i < 0) return { write: false, value: refuse('not-member', 'refusal.notMember', { jid, name: g.name }) };
      g.members.splice(i, 1);
      return { write: true, value: { ok: true, group: g, jid } };
    });
  }

  /** A local account's bare JID from `alice`, `alice@DOMAIN` or `Alice@Domain/res`; undefined for anything else. */
  memberJid(text: string): string | undefined {
    const t = text.trim().replace(/^xmpp:/i, '');
    if (!t || t.length > 1023) return undefined;
    const bareText = t.split('/')[0]!;
    const at = bareText.indexOf('@');
    const local = at < 0 ? bareText : bareText.slice(0, at);
    const host = at < 0 ? this.domain : bareText.slice(at + 1);
    // What nodeprep forbids in a localpart (RFC 7622 / RFC 3920 appendix A.5); read as typed,
    // not through @xmpp/jid, which would escape a space (XEP-0106) rather than refuse it.
    if (!local || /[\s"&'/:<>@\p{Cc}\p{Cf}]/u.test(local)) return undefined;
    const bare = `${local.normalize('NFKC').toLowerCase()}@${host.toLowerCase()}`;
    return isLocal(bare, this.domain) ? bare : undefined;
  }
}

function validName(name: string): boolean {
  // A roster group's name: printable, one line, not too long.
  return [...name].length >= 1 && [...name].length <= MAX_GROUP_NAME && !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(name);
}

/** A room's bare JID (`room@conference.example.org`, also as `xmpp:…?join`), or undefined when `text` is none. */
export function bareRoom(text: string): string | undefined {
  const t = text.trim().replace(/^xmpp:/i, '').replace(/\?join$/i, '');
  const at = t.indexOf('@');
  if (at <= 0 || t.includes('/')) return undefined;
  const local = t.slice(0, at);
  const host = t.slice(at + 1);
  // Read as typed, as memberJid does: a typo is refused, not escaped (XEP-0106) into another room's address.
  if (/[\s"&'/:<>@\p{Cc}\p{Cf}]/u.test(local) || !/^[\p{L}\p{N}.-]+$/u.test(host) || host.startsWith('.') || host.endsWith('.')) return undefined;
  return `${local.normalize('NFKC').toLowerCase()}@${host.toLowerCase()}`;
}
