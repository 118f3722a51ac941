// Prosody's own pending invites (mod_invites' `invite_token` store, internal file
// storage) as our Invite objects, so that links already shared keep working once
// our service replaces mod_invites. Read-only: Prosody's files are never changed.
//
// The record format is mod_invites' create_invite(), the same in both versions:
// Prosody 0.12.3 /usr/lib/prosody/modules/mod_invites.lua and Prosody 13.0.1
// /opt/prosody13/usr/lib/prosody/modules/mod_invites.lua. Per host:
//   DATA/<host>/invite_token.dat        token -> { type = "register"|"roster", jid,
//       token, allow_registration, additional_data, uri, created_at, expires, reusable }
//     written for every invite that allows registration; type "register" with jid =
//     host (any username), user@host (that username), or, with additional_data.
//     allow_reset = user, a password reset; type "roster" with jid = the inviter
//     (account+contact: registration makes them contacts).
//   DATA/<host>/invite_token/<user>.dat token -> expires (a number)
//     every contact invite of <user>; one not in the host's record is contact-only.
// additional_data: roles (0.12: a set { ["prosody:admin"] = true }; 13: a list,
// primary first), groups (a list), note, source (who made it: a full JID from
// mod_invites_adhoc, "api/token/ID" from mod_invites_api, ...), allow_reset.
// A used invite is deleted by mod_invites (valid_invite_methods:use()), except a
// reusable one; mod_invites_tracking (13's community modules), when loaded, keeps
// DATA/<host>/invites_tracking/<new user>.dat = { invite_id = token, invite_source }.
import { MAX_USES_LIMIT } from '../invites/service.js';
import { parseRole, sortRoles } from '../invites/roles.js';
import { hashToken, looksLikeToken, newId } from '../invites/tokens.js';
import type { Invite, InviteKind, InviteUse, Role } from '../invites/types.js';
import { isValidUsername } from '../invites/username.js';
import { type LuaTable, type LuaValue, readHostStore } from './prosody-store.js';

export interface Skipped {
  reason: string;
  count: number;
}

export interface ProsodyImport {
  invites: Invite[];
  skipped: Skipped[];
}

/** createdBy when Prosody does not say who made the invite (or names no account). */
export const IMPORT_CREATOR = 'prosody-import';

const str = (t: LuaTable | undefined, k: string): string | undefined => {
  const v = t?.get(k);
  return typeof v === 'string' ? v : undefined;
};
const table = (v: LuaValue | undefined): LuaTable | undefined => (v instanceof Map ? v : undefined);

/** The items of a Lua list, in order; undefined when `t` has other keys. */
function list(t: LuaTable): LuaValue[] | undefined {
  const out: LuaValue[] = [];
  for (let i = 1; i <= t.size; i++) {
    if (!t.has(i)) return undefined;
    out.push(t.get(i)!);
  }
  return out;
}

/** A seconds-since-1970 number as an ISO time, or undefined when it is not one. */
function isoSeconds(v: LuaValue | undefined): string | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  const ms = v * 1000;
  // Within what a Date (and every store) keeps.
  if (Math.abs(ms) > 8.64e15) return undefined;
  return new Date(Math.floor(ms)).toISOString();
}

type Mapped = { invite: Invite } | { skip: string };

class Mapper {
  readonly host: string;
  constructor(host: string, private readonly now: Date) {
    this.host = host.toLowerCase();
  }

  /** `user@host` → user; the host itself → null; anything else → undefined. */
  private localpart(jid: string): string | null | undefined {
    const j = jid.toLowerCase();
    if (j === this.host) return null;
    const at = j.lastIndexOf('@');
    if (at <= 0 || j.slice(at + 1) !== this.host || j.includes('/')) return undefined;
    const user = jid.slice(0, at);
    return isValidUsername(user) ? user : undefined;
  }

  private bare(jid: string): string | undefined {
    const bare = jid.split('/')[0]!.toLowerCase();
    const at = bare.lastIndexOf('@');
    return at > 0 && at < bare.length - 1 && !/\s/.test(bare) ? bare : undefined;
  }

  /** Prosody role names (0.12: a set; 13: a list, primary first) as ours; a string naming the role we do not have. */
  private roles(v: LuaValue | undefined): Role[] | { unknown: string } | undefined {
    if (v === undefined) return [];
    const t = table(v);
    if (!t) return undefined;
    const items = list(t);
    let names: string[];
    if (items) {
      if (!items.every((x): x is string => typeof x === 'string')) return undefined;
      names = items;
    } else {
      names = [];
      for (const [k, on] of t) {
        if (typeof k !== 'string' || typeof on !== 'boolean') return undefined;
        if (on) names.push(k);
      }
    }
    const roles: Role[] = [];
    for (const n of names) {
      const r = parseRole(n);
      if (!r) return { unknown: n };
      roles.push(r);
    }
    return sortRoles(roles);
  }

  private groups(v: LuaValue | undefined): string[] | undefined | false {
    if (v === undefined) return undefined;
    const t = table(v);
    const items = t && list(t);
    if (!items || !items.every((g): g is string => typeof g === 'string' && g.length > 0)) return false;
    return items.length ? [...new Set(items)] : undefined;
  }

  private base(token: string, kind: InviteKind, createdBy: string, createdAt: string | undefined, expiresAt: string): Invite {
    return {
      id: newId(),
      tokenHash: hashToken(token),
      kind,
      createdBy,
      roles: [],
      maxUses: 1,
      uses: [],
      createdAt: createdAt ?? this.now.toISOString(),
      expiresAt,
    };
  }

  private expired(expiresAt: string): boolean {
    return Date.parse(expiresAt) <= this.now.getTime();
  }

  /** A record of the host's invite_token file (an invite that allows registration). */
  hostRecord(token: string, rec: LuaValue, usedBy: InviteUse[]): Mapped {
    const t = table(rec);
    if (!t) return { skip: 'malformed (not a table)' };
    if (str(t, 'token') !== undefined && str(t, 'token') !== token) return { skip: 'malformed (token does not match its key)' };
    const expiresAt = isoSeconds(t.get('expires'));
    if (!expiresAt) return { skip: 'malformed (no expiry)' };
    const type = t.get('type');
    if (type !== 'register' && type !== 'roster') return { skip: 'unknown type' };
    const jid = str(t, 'jid');
    const user = jid === undefined ? undefined : this.localpart(jid);
    if (user === undefined) return { skip: `malformed (jid not of ${this.host})` };
    const data = t.has('additional_data') ? table(t.get('additional_data')) : new Map() as LuaTable;
    if (!data) return { skip: 'malformed (additional_data not a table)' };
    const createdAtRaw = t.get('created_at');
    const createdAt = isoSeconds(createdAtRaw);
    if (createdAtRaw !== undefined && !createdAt) return { skip: 'malformed (created_at)' };
    if (this.expired(expiresAt)) return { skip: 'expired' };

    const source = str(data, 'source');
    const sourceJid = source?.includes('@') ? this.bare(source) : undefined;
    let invite: Invite;
    if (type === 'roster') {
      if (user === null) return { skip: 'malformed (contact invite without inviter)' };
      const inviter = `${user.toLowerCase()}@${this.host}`;
      // Only invites that allow registration are in this file; one that does not would be contact-only.
      const kind = t.get('allow_registration') === false ? 'contact' : 'account-contact';
      invite = { ...this.base(token, kind, inviter, createdAt, expiresAt), inviter };
    } else {
      const reset = data.get('allow_reset');
      if (reset !== undefined) {
        // Exactly as Prosody stored it, which Prosody compares with a registration's nodeprepped
        // name: folding it here could make a reset for one account a reset for another.
        const username = typeof reset === 'string' && isValidUsername(reset) ? reset : null;
        if (!username) return { skip: 'malformed (allow_reset)' };
        invite = { ...this.base(token, 'reset', sourceJid ?? IMPORT_CREATOR, createdAt, expiresAt), username };
      } else {
        const roles = this.roles(data.get('roles'));
        if (!roles) return { skip: 'malformed (roles)' };
        if (!Array.isArray(roles)) return { skip: `unknown role ${JSON.stringify(roles.unknown.slice(0, 40))}` };
        invite = { ...this.base(token, 'account', sourceJid ?? IMPORT_CREATOR, createdAt, expiresAt), roles };
        if (user !== null) {
          const username = isValidUsername(user) ? user : null;
          if (!username) return { skip: 'malformed (username)' };
          invite.username = username;
        }
      }
    }
    if (invite.kind !== 'reset') {
      const groups = this.groups(data.get('groups'));
      if (groups === false) return { skip: 'malformed (groups)' };
      if (groups) invite.groups = groups;
    }
    const note = data.get('note');
    if (typeof note === 'string' && note.trim()) invite.note = note;

    if (t.get('reusable') === true && invite.kind === 'account' && !invite.username) {
      // Prosody's reusable invites have no limit but their expiry; ours have MAX_USES_LIMIT.
      invite.maxUses = MAX_USES_LIMIT;
      invite.uses = usedBy.slice(0, MAX_USES_LIMIT);
    } else if (usedBy.length > 0) {
      // Still here though mod_invites_tracking saw it used: its deletion was lost.
      return { skip: 'used' };
    }
    if (invite.uses.length >= invite.maxUses) return { skip: 'used' };
    return { invite };
  }

  /** A contact-only invite: in DATA/<host>/invite_token/<user>.dat only. */
  userRecord(user: string, token: string, expires: LuaValue): Mapped {
    const expiresAt = isoSeconds(expires);
    if (!expiresAt) return { skip: 'malformed (no expiry)' };
    if (!isValidUsername(user)) return { skip: 'malformed (username)' };
    if (this.expired(expiresAt)) return { skip: 'expired' };
    const inviter = `${user.toLowerCase()}@${this.host}`;
    // Prosody keeps no creation time for these.
    return { invite: { ...this.base(token, 'contact', inviter, undefined, expiresAt), inviter } };
  }
}

/**
 * The pending invites of Prosody's `invite_token` store for `host` under `dataDir`
 * (Prosody's data_path), mapped to our invites (token hashed, a fresh id), and what
 * could not be imported, counted by reason. Throws ProsodyDataError when `dataDir`
 * has no data for `host`. Whether an invite is already in our store is for the
 * import to decide (by token hash).
 */
export async function readProsodyInvites(dataDir: string, host: string, now: Date): Promise<ProsodyImport> {
  host = host.trim().toLowerCase(); // Prosody's hosts are nameprepped
  const store = await readHostStore(dataDir, host, 'invite_token');
  const tracking = await readHostStore(dataDir, host, 'invites_tracking');
  const mapper = new Mapper(host, now);
  const skipped = new Map<string, number>();
  const skip = (reason: string, n = 1) => skipped.set(reason, (skipped.get(reason) ?? 0) + n);
  for (const p of store.problems) skip(`malformed file ${p.file}: ${p.reason}`);
  // A tracking file that cannot be read only loses use counts of reusable invites: not an invite skipped.

  // Who registered with which token (mod_invites_tracking), as uses.
  const usedBy = new Map<string, InviteUse[]>();
  for (const [user, f] of tracking.users) {
    const token = str(f.value, 'invite_id');
    if (user === ' ' || !token) continue; // " " is the module's own metadata record
    const uses = usedBy.get(token) ?? [];
    uses.push({ jid: `${user.toLowerCase()}@${mapper.host}`, at: f.mtime.toISOString() });
    usedBy.set(token, uses);
  }

  const invites: Invite[] = [];
  const ids = new Set<string>();
  const seen = new Set<string>();
  const add = (m: Mapped) => {
    if ('skip' in m) return skip(m.skip);
    while (ids.has(m.invite.id)) m.invite.id = newId();
    ids.add(m.invite.id);
    invites.push(m.invite);
  };

  for (const [key, rec] of store.host?.value ?? []) {
    if (typeof key !== 'string' || !looksLikeToken(key)) {
      skip('malformed (not a token)');
      continue;
    }
    seen.add(key);
    add(mapper.hostRecord(key, rec, usedBy.get(key) ?? []));
  }
  for (const [user, f] of store.users) {
    for (const [key, expires] of f.value) {
      if (typeof key !== 'string' || !looksLikeToken(key)) {
        skip('malformed (not a token)');
        continue;
      }
      // The contact half of an account+contact invite, imported with it above.
      if (seen.has(key)) continue;
      seen.add(key);
      add(mapper.userRecord(user, key, expires));
    }
  }
  return { invites, skipped: [...skipped].map(([reason, count]) => ({ reason, count })) };
}
