// Configuration from environment variables. `.env` is read if present and the
// real environment wins (Node's loadEnvFile never overrides a set variable).
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { checkSecretFile } from './private-files.js';
import { isIP } from 'node:net';
import { jid as parseJid } from '@xmpp/jid';
import { type Lang, LANGUAGES, langOf } from './i18n/i18n.js';
import type { Rate } from './rate-limit.js';

export class ConfigError extends Error {
  constructor(readonly variable: string, readonly expected: string) {
    super(`${variable}: expected ${expected}`);
  }
}

export interface Config {
  /** c2s address; undefined means "run a private local Prosody" (npm start only). */
  xmppService?: string;
  xmppDomain: string;
  botJid: string;
  botPassword: string;
  botResource: string;
  /** BOT_NAME: the bot's nickname (XEP-0172), vCard name and disco identity. */
  botName: string;
  /** Chat commands each sender may give the bot: `points` per `duration` seconds. */
  botRateLimit: Rate;
  /** Ad-hoc command requests each asker may send, per `duration` seconds (a form takes two). */
  adhocRateLimit: Rate;
  /** Refused invite tokens (XEP-0445 preauth) one client address may try, per `duration` seconds (a valid one gives its point back). */
  preauthRateLimit: Rate;
  /** HTTP API requests each API key may make, per `duration` seconds (API_RATE_LIMIT); unset: 120 a minute. */
  apiRateLimit?: Rate;
  /** Addresses not held to preauthRateLimit (none by default: npm start's server is on loopback too). */
  preauthLimitExempt: string[];
  /** BOT_RATE_LIMIT and ADHOC_RATE_LIMIT apply to admins too. */
  rateLimitAdmins: boolean;
  componentDomain: string;
  componentService: string;
  componentSecret?: string;
  admins: string[];
  storeFile: string;
  /** A postgresql:// URL: the PostgreSQL store (shared by several instances); undefined: the lowdb files at storeFile. */
  storeUrl?: string;
  /** fdatasync every store change (survives power loss, not only a killed process); see docs/store.md. */
  storeFsync: boolean;
  publicUrl?: string;
  httpHost: string;
  httpPort: number;
  /** Set by npm start's local mode when it picked HTTP_PORT itself: taken meanwhile, another is used. */
  httpPortChosen?: boolean;
  /** Proxies whose X-Forwarded-For is believed (the web rate limits count per client address): true, or addresses/CIDRs. */
  trustProxy: boolean | string[];
  /** Bearer token that /metrics asks for; undefined: /metrics answers only unproxied loopback requests. */
  metricsToken?: string;
  /** JSON list of recommended clients for the web pages; undefined: the shipped list. */
  clientsFile?: string;
  /** The language of pages and replies when the visitor's or sender's own is not one we have. */
  language: Lang;
  inviteExpiry: number;
  resetExpiry: number;
  allowUserInvites: boolean;
  allowContactInvites: boolean;
  registrationInviteOnly: boolean;
  maxInvitesPerUser: number;
  /** Invites a non-admin may create in 24 hours, whatever became of them (revoked, used). */
  maxInvitesPerDay: number;
  /** Days an archived (ended) invite is kept; 0 keeps them for ever. */
  archiveDays: number;
  xmppDebug: boolean;
}

type Env = Record<string, string | undefined>;

/** Variables whose values give control of accounts: a file that provides them must be private. */
const SECRET_VARS = ['COMPONENT_SECRET', 'BOT_PASSWORD'];

/** Does a STORE_URL carry a password (it gives control of every invite, admin invites included)? */
function urlHasPassword(v: string | undefined): boolean {
  try {
    return v !== undefined && new URL(v.trim()).password !== '';
  } catch {
    return false;
  }
}

/** Read `.env`; refuses one that others can read when it is where a secret comes from (SecretFileError). */
export function loadDotEnv(file = '.env'): void {
  if (!existsSync(file)) return;
  const given = parseEnv(readFileSync(file, 'utf8'));
  const secrets = SECRET_VARS.filter((v) => given[v]?.trim() && process.env[v] === undefined);
  if (urlHasPassword(given.STORE_URL) && process.env.STORE_URL === undefined) secrets.push('the password of STORE_URL');
  if (secrets.length) checkSecretFile(file, secrets.join(' and '));
  process.loadEnvFile(file);
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

function read(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === '' ? undefined : v;
}

/** Secrets are taken as given: spaces may be part of a password. */
function readSecret(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = read(env, name);
  if (v === undefined) return fallback;
  if (TRUE.has(v.toLowerCase())) return true;
  if (FALSE.has(v.toLowerCase())) return false;
  throw new ConfigError(name, 'true or false');
}

function int(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = read(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new ConfigError(name, `a whole number from ${min} to ${max}`);
  return n;
}

/** "N/S": N commands per S seconds. */
function rate(env: Env, name: string, fallback: Rate): Rate {
  const v = read(env, name);
  if (v === undefined) return fallback;
  const m = /^(\d{1,9})\s*\/\s*(\d{1,9})$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new ConfigError(name, 'commands per seconds, like 10/30');
  return { points: Number(m[1]), duration: Number(m[2]) };
}

/** A comma-separated list of IP addresses (empty: none). */
function addresses(env: Env, name: string, fallback: string[]): string[] {
  const v = env[name];
  if (v === undefined) return fallback;
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.every((a) => isIP(a))) throw new ConfigError(name, 'IP addresses separated by commas, like 127.0.0.1,::1');
  return list;
}

/** Lower-cased bare JID, or throws naming the variable. */
function bareJid(name: string, value: string): string {
  try {
    const j = parseJid(value);
    if (!j.local || value.includes('/')) throw new Error('not bare');
    return j.bare().toString().toLowerCase();
  } catch {
    throw new ConfigError(name, 'a bare JID like user@example.com');
  }
}

function domain(name: string, value: string): string {
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(value)) throw new ConfigError(name, 'a domain name like example.com');
  return value.toLowerCase();
}

function xmppUrl(name: string, value: string): string {
  if (!/^xmpps?:\/\/[^\s/]+(:\d+)?\/?$/.test(value)) throw new ConfigError(name, 'an address like xmpp://127.0.0.1:5222');
  return value;
}

function httpUrl(name: string, value: string): string {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    return value.replace(/\/+$/, '');
  } catch {
    throw new ConfigError(name, 'an http(s) URL like https://invites.example.com');
  }
}

/** false, true, or a comma-separated list of proxy addresses or CIDR ranges. */
function trustProxy(env: Env, name: string): boolean | string[] {
  const v = read(env, name);
  if (v === undefined) return false;
  if (TRUE.has(v.toLowerCase())) return true;
  if (FALSE.has(v.toLowerCase())) return false;
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const valid = (a: string) => {
    const [ip, bits, extra] = a.split('/');
    const family = isIP(ip ?? '');
    if (!family || extra !== undefined) return false;
    return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
  };
  if (list.length === 0 || !list.every(valid)) throw new ConfigError(name, 'true, false, or proxy addresses like 127.0.0.1,10.0.0.0/8');
  return list;
}

/** A PostgreSQL connection URL (it may hold a password: never echoed). */
function storeUrl(env: Env, name: string): string | undefined {
  const v = readSecret(env, name)?.trim();
  if (v === undefined) return undefined;
  let ok = false;
  try {
    const u = new URL(v);
    ok = (u.protocol === 'postgresql:' || u.protocol === 'postgres:') && (u.hostname !== '' || u.searchParams.has('host'));
  } catch {
    // not a URL
  }
  if (!ok) throw new ConfigError(name, 'a PostgreSQL URL like postgresql://invites:PASSWORD@db.example.com/invites (empty: the lowdb files)');
  return v;
}

function language(env: Env, name: string): Lang {
  const v = read(env, name);
  if (v === undefined) return 'en';
  // A tag such as de-AT or de_DE names its language.
  const lang = langOf(v);
  if (!lang) throw new ConfigError(name, `one of ${LANGUAGES.join(', ')}`);
  return lang;
}

/** A bearer token: long enough not to be guessed, and only characters a header carries unchanged. */
function metricsToken(env: Env, name: string): string | undefined {
  const v = readSecret(env, name);
  if (v !== undefined && !/^[A-Za-z0-9._~+/=-]{16,}$/.test(v)) throw new ConfigError(name, 'at least 16 letters, digits or ._~+/=- (e.g. openssl rand -hex 32)');
  return v;
}

/**
 * Parse the environment. With `localDefaults` (npm start with no XMPP_SERVICE)
 * the server settings may be absent: the caller fills them from the local Prosody.
 */
export function parseConfig(env: Env, opts: { localDefaults?: boolean } = {}): Config {
  const xmppServiceRaw = read(env, 'XMPP_SERVICE');
  const xmppService = xmppServiceRaw && xmppUrl('XMPP_SERVICE', xmppServiceRaw);
  const local = !xmppService && opts.localDefaults;
  if (!xmppService && !local) throw new ConfigError('XMPP_SERVICE', 'an address like xmpp://127.0.0.1:5222');

  const botJidRaw = read(env, 'BOT_JID') ?? (local ? `invitebot@${read(env, 'XMPP_DOMAIN') ?? 'localhost'}` : undefined);
  if (!botJidRaw) throw new ConfigError('BOT_JID', 'a bare JID like invitebot@example.com');
  const botJid = bareJid('BOT_JID', botJidRaw);
  const xmppDomain = domain('XMPP_DOMAIN', read(env, 'XMPP_DOMAIN') ?? botJid.split('@')[1]!);
  if (botJid.split('@')[1] !== xmppDomain) throw new ConfigError('BOT_JID', `an account on XMPP_DOMAIN (${xmppDomain})`);

  const botPassword = readSecret(env, 'BOT_PASSWORD') ?? (local ? '' : undefined);
  if (botPassword === undefined) throw new ConfigError('BOT_PASSWORD', "the bot account's password");

  const resource = read(env, 'BOT_RESOURCE') ?? 'bot';
  if (/[\s/@]/.test(resource) || resource.length > 64) throw new ConfigError('BOT_RESOURCE', 'a short resource without spaces');

  const botName = (read(env, 'BOT_NAME') ?? 'Invite bot').trim() || 'Invite bot';
  if (botName.length > 64 || /[\u0000-\u001f\u007f]/.test(botName)) throw new ConfigError('BOT_NAME', 'a name of at most 64 characters, on one line');

  const admins = (read(env, 'ADMINS') ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((a) => bareJid('ADMINS', a));

  return {
    xmppService,
    xmppDomain,
    botJid,
    botPassword,
    botResource: resource,
    botName,
    botRateLimit: rate(env, 'BOT_RATE_LIMIT', { points: 10, duration: 30 }),
    adhocRateLimit: rate(env, 'ADHOC_RATE_LIMIT', { points: 20, duration: 30 }),
    rateLimitAdmins: bool(env, 'RATE_LIMIT_ADMINS', false),
    preauthRateLimit: rate(env, 'PREAUTH_RATE_LIMIT', { points: 30, duration: 60 }),
    preauthLimitExempt: addresses(env, 'PREAUTH_LIMIT_EXEMPT', []),
    ...(read(env, 'API_RATE_LIMIT') !== undefined ? { apiRateLimit: rate(env, 'API_RATE_LIMIT', { points: 120, duration: 60 }) } : {}),
    componentDomain: domain('COMPONENT_DOMAIN', read(env, 'COMPONENT_DOMAIN') ?? `invites.${xmppDomain}`),
    componentService: xmppUrl('COMPONENT_SERVICE', read(env, 'COMPONENT_SERVICE') ?? 'xmpp://127.0.0.1:5347'),
    componentSecret: readSecret(env, 'COMPONENT_SECRET'),
    admins,
    storeFile: read(env, 'STORE_FILE') ?? 'data/invites.json',
    storeUrl: storeUrl(env, 'STORE_URL'),
    storeFsync: bool(env, 'STORE_FSYNC', false),
    publicUrl: read(env, 'PUBLIC_URL') && httpUrl('PUBLIC_URL', read(env, 'PUBLIC_URL')!),
    httpHost: read(env, 'HTTP_HOST') ?? '127.0.0.1',
    httpPort: int(env, 'HTTP_PORT', 8080, 0, 65535),
    trustProxy: trustProxy(env, 'TRUST_PROXY'),
    metricsToken: metricsToken(env, 'METRICS_TOKEN'),
    clientsFile: read(env, 'CLIENTS_FILE'),
    language: language(env, 'DEFAULT_LANGUAGE'),
    inviteExpiry: int(env, 'INVITE_EXPIRY', 604800, 60),
    resetExpiry: int(env, 'RESET_EXPIRY', 86400, 60),
    allowUserInvites: bool(env, 'ALLOW_USER_INVITES', false),
    allowContactInvites: bool(env, 'ALLOW_CONTACT_INVITES', true),
    registrationInviteOnly: bool(env, 'REGISTRATION_INVITE_ONLY', true),
    maxInvitesPerUser: int(env, 'MAX_INVITES_PER_USER', 10, 0),
    maxInvitesPerDay: int(env, 'MAX_INVITES_PER_DAY', 30, 0),
    archiveDays: int(env, 'ARCHIVE_DAYS', 90, 0),
    xmppDebug: bool(env, 'XMPP_DEBUG', false),
  };
}
