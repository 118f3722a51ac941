// API keys: made by the operator (`npm run invites -- api-key create NAME`), shown
// once, kept only as a hash. A key is `ID.SECRET`: the id finds it (and names it in
// lists and logs), the secret's SHA-256 proves it. Secrets carry 144 bits, so a plain
// hash is enough, as for invite tokens.
import { timingSafeEqual } from 'node:crypto';
import { hashToken, newId, newToken } from '../invites/tokens.js';
import type { InviteStore } from '../store/store.js';

export const SCOPES = ['invites:read', 'invites:write', 'invites:admin', 'groups:read', 'groups:write'] as const;
export type Scope = (typeof SCOPES)[number];
/** What a key made without --scope may do: create and read invites, as Prosody's mod_invites_api keys do. */
export const DEFAULT_SCOPES: readonly Scope[] = ['invites:write'];

export interface ApiKey {
  id: string;
  name: string;
  scopes: Scope[];
  /** SHA-256 of the secret (base64url). */
  hash: string;
  createdAt: string;
  revokedAt?: string;
}

interface KeysDoc {
  keys: ApiKey[];
}

/**
 * A key that may write may read what it writes; invites:admin (reset invites, admin roles:
 * each a way into an account that exists or has every power) may also write and read invites.
 */
export function allows(scopes: readonly Scope[], wanted: Scope): boolean {
  if (scopes.includes(wanted)) return true;
  if ((wanted === 'invites:write' || wanted === 'invites:read') && scopes.includes('invites:admin')) return true;
  return wanted.endsWith(':read') && scopes.includes(wanted.replace(':read', ':write') as Scope);
}

export function parseScopes(texts: readonly string[]): { scopes: Scope[] } | { message: string } {
  const out: Scope[] = [];
  for (const t of texts) {
    const s = t.trim().toLowerCase();
    if (!(SCOPES as readonly string[]).includes(s)) return { message: `"${t.slice(0, 40)}" is not a scope; the scopes are ${SCOPES.join(', ')}.` };
    if (!out.includes(s as Scope)) out.push(s as Scope);
  }
  return { scopes: out.length ? out : [...DEFAULT_SCOPES] };
}

const NAME_MAX = 64;

/** How long verify() believes the keys it read: a stream of made-up keys costs one read a second, not one each. */
const KEYS_TTL_MS = 1000;

export class ApiKeys {
  /** The keys as last read, for verify(); dropped by this instance's own changes. */
  private cached?: { at: number; keys: Promise<ApiKey[]> };

  constructor(private readonly store: InviteStore, private readonly now: () => Date = () => new Date()) {}

  async list(): Promise<ApiKey[]> {
    return ((await this.store.getDoc('api-keys')) as KeysDoc | undefined)?.keys ?? [];
  }

  /** The keys, read at most once a second (another instance's revocation takes effect here within that second). */
  private recent(): Promise<ApiKey[]> {
    const at = Date.now();
    if (!this.cached || at - this.cached.at > KEYS_TTL_MS) {
      const keys = this.list();
      this.cached = { at, keys };
      keys.catch(() => { if (this.cached?.keys === keys) this.cached = undefined; });
    }
    return this.cached.keys;
  }

  /** A new key: the record, and the key itself (to be shown once). */
  async create(name: string, scopes: readonly Scope[]): Promise<{ ok: true; key: ApiKey; secret: string } | { ok: false; message: string }> {
    const clean = name.trim();
    if (!clean || [...clean].length > NAME_MAX || /[\p{Cc}\p{Cf}\s]/u.test(clean)) {
      return { ok: false, message: `A key's name is one word of up to ${NAME_MAX} characters (it names the key in logs), such as "website".` };
    }
    const secret = newToken();
    type Made = { ok: true; key: ApiKey; secret: string } | { ok: false; message: string };
    const made = await this.store.changeDoc<Made>('api-keys', (d) => {
      const doc = (d as KeysDoc | undefined) ?? { keys: [] };
      if (doc.keys.some((k) => !k.revokedAt && k.name === clean)) {
        return { write: false, value: { ok: false as const, message: `A key named "${clean}" exists already; revoke it first, or choose another name.` } };
      }
      let id = newId();
      while (doc.keys.some((k) => k.id === id)) id = newId();
      const key: ApiKey = { id, name: clean, scopes: [...scopes], hash: hashToken(secret), createdAt: this.now().toISOString() };
      doc.keys.push(key);
      return { write: true, doc, value: { ok: true as const, key, secret: `${id}.${secret}` } };
    });
    this.cached = undefined; // after the write: a verify meanwhile must not keep the list without it
    return made;
  }

  async revoke(id: string): Promise<ApiKey | undefined> {
    try {
      return await this.revokeNow(id);
    } finally {
      this.cached = undefined; // after the write: a verify meanwhile must not keep the old list
    }
  }

  private revokeNow(id: string): Promise<ApiKey | undefined> {
    return this.store.changeDoc('api-keys', (d) => {
      const doc = (d as KeysDoc | undefined) ?? { keys: [] };
      const key = doc.keys.find((k) => k.id === id.trim().toLowerCase() && !k.revokedAt);
      if (!key) return { write: false, value: undefined };
      key.revokedAt = this.now().toISOString();
      return { write: true, doc, value: key };
    });
  }

  /** The live key `given` is, or undefined (unknown, revoked, malformed). */
  async verify(given: string): Promise<ApiKey | undefined> {
    const m = /^([a-z2-9]{8})\.([A-Za-z0-9_-]{24})$/.exec(given.trim());
    if (!m) return undefined;
    const key = (await this.recent()).find((k) => k.id === m[1] && !k.revokedAt);
    if (!key) return undefined;
    const a = Buffer.from(hashToken(m[2]!));
    const b = Buffer.from(key.hash);
    return a.length === b.length && timingSafeEqual(a, b) ? key : undefined;
  }
}
