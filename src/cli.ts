// npm run invites -- create account|reset ... | list | revoke ID | group ... | groups | api-key ... | import-prosody DATA_DIR HOST | doctor
// The store keeps one writer: when the service runs, ask it over its control
// socket; otherwise take the writer lock and do the work here. `doctor` asks
// the configured server what it offers (src/server/doctor.ts).
import { parseArgs } from 'node:util';
import { parseScopes } from './api/keys.js';
import { type Config, ConfigError, loadDotEnv, parseConfig } from './config.js';
import { importText, type Operation, type Outcome, plural, runOperation } from './control/operations.js';
import { askService, controlSocketPath } from './control/socket.js';
import { openCore } from './core.js';
import { parseLifetime } from './invites/lifetime.js';
import { parseRoles } from './invites/roles.js';
import type { InviteOptions } from './invites/service.js';
import type { Invite } from './invites/types.js';
import { SecretFileError } from './private-files.js';
import { exitCode, formatReport, judge } from './server/doctor.js';
import { gatherFacts } from './server/doctor-probes.js';
import { StoreLockedError } from './store/lowdb/writer-lock.js';

const USAGE = `Usage:
  npm run invites -- create account [--admin] [--role ROLE]... [--username USER] [--uses N] [--expires-after D] [--group G]... [--note TEXT]
  npm run invites -- create reset USER [--expires-after D] [--note TEXT]
  npm run invites -- list
  npm run invites -- revoke ID
  npm run invites -- group create NAME [ROOM]
  npm run invites -- group delete NAME
  npm run invites -- group add NAME JID
  npm run invites -- group remove NAME JID
  npm run invites -- groups
  npm run invites -- api-key create NAME [--scope invites:read|invites:write|invites:admin|groups:read|groups:write]...
  npm run invites -- api-key list
  npm run invites -- api-key revoke ID
  npm run invites -- import-prosody DATA_DIR HOST
  npm run invites -- doctor
D is a lifetime: 1h, 2d, 4w, or never.`;

export class UsageError extends Error {}

/** What the command line asks: an operation, or Prosody's invites to read first and then import. */
export type CliRequest = Operation | { op: 'import-prosody'; dataDir: string; host: string };

const OPTIONS = {
  admin: { type: 'boolean' },
  role: { type: 'string', multiple: true },
  username: { type: 'string' },
  uses: { type: 'string' },
  'expires-after': { type: 'string' },
  group: { type: 'string', multiple: true },
  note: { type: 'string' },
  scope: { type: 'string', multiple: true },
} as const;
type Given = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K] extends { type: 'boolean' } ? boolean : string };

/** --expires-after and --note as the core takes them. */
function lifetimeAndNote(values: Given): InviteOptions {
  const out: InviteOptions = {};
  if (values['expires-after'] !== undefined) {
    const l = parseLifetime(values['expires-after']);
    if (l === undefined) throw new UsageError('--expires-after takes a lifetime such as 1h, 2d or 4w (at most ten years), or never');
    out.expiresAfter = l;
  }
  if (values.note !== undefined) out.note = values.note;
  return out;
}

export function parseCli(argv: string[]): CliRequest {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const values = parsed.values as Given;
  const positionals = parsed.positionals;
  const [verb, what, arg, ...rest] = positionals;
  const given = Object.keys(values);
  /** The options given are among these. */
  const only = (...names: (keyof typeof OPTIONS)[]) => given.every((k) => (names as string[]).includes(k));
  const none = given.length === 0;
  const count = positionals.length;

  if (verb === 'create' && what === 'account' && arg === undefined && only('admin', 'role', 'username', 'uses', 'expires-after', 'group', 'note')) {
    const uses = values.uses === undefined ? undefined : Number(values.uses);
    if (uses !== undefined && !/^\d+$/.test(values.uses!)) throw new UsageError('--uses takes a whole number');
    // --admin is --role admin, as in prosodyctl mod_invites generate.
    const roles = parseRoles([...(values.admin ? ['admin'] : []), ...(values.role ?? [])]);
    if ('message' in roles) throw new UsageError(roles.message);
    return {
      op: 'create',
      request: {
        kind: 'account', username: values.username, roles: roles.roles, maxUses: uses,
        ...lifetimeAndNote(values), ...(values.group?.length ? { groups: values.group } : {}),
      },
    };
  }
  if (verb === 'create' && what === 'reset' && arg !== undefined && rest.length === 0 && only('expires-after', 'note')) {
    return { op: 'create', request: { kind: 'reset', username: arg, ...lifetimeAndNote(values) } };
  }
  if (verb === 'list' && count === 1 && none) return { op: 'list' };
  if (verb === 'revoke' && count === 2 && none) return { op: 'revoke', id: what! };
  if (verb === 'groups' && count === 1 && none) return { op: 'groups' };
  if (verb === 'group' && none) {
    if (what === 'create' && (count === 3 || count === 4)) return { op: 'group-create', name: arg!, ...(rest[0] !== undefined ? { room: rest[0] } : {}) };
    if (what === 'delete' && count === 3) return { op: 'group-delete', name: arg! };
    if (what === 'add' && count === 4) return { op: 'group-add', name: arg!, jid: rest[0]! };
    if (what === 'remove' && count === 4) return { op: 'group-remove', name: arg!, jid: rest[0]! };
  }
  if (verb === 'api-key') {
    if (what === 'create' && count === 3 && only('scope')) {
      const scopes = parseScopes(values.scope ?? []);
      if ('message' in scopes) throw new UsageError(scopes.message);
      return { op: 'api-key-create', name: arg!, scopes: scopes.scopes };
    }
    if (what === 'list' && count === 2 && none) return { op: 'api-key-list' };
    if (what === 'revoke' && count === 3 && none) return { op: 'api-key-revoke', id: arg! };
  }
  if (verb === 'import-prosody' && count === 3 && none) return { op: 'import-prosody', dataDir: what!, host: arg! };
  throw new UsageError(`Unknown command: ${positionals.join(' ') || '(none)'}${none ? '' : ` with ${given.map((k) => `--${k}`).join(' ')}`}`);
}

/** The store's own lock keeps this the only writer (StoreLockedError while the service has it). */
async function runLocally(config: Config, op: Operation): Promise<Outcome> {
  const core = await openCore(config);
  const { store, service } = core;
  try {
    return await runOperation(core, op);
  } finally {
    service.close();
    await store.close();
  }
}

/** Check the configured server, as the service would use it: one line per feature, exit 1 when a needed one does not work. */
async function doctor(): Promise<number> {
  let config: Config;
  try {
    loadDotEnv();
    // No local defaults: a doctor checks the server the service is configured for.
    config = parseConfig(process.env);
  } catch (e) {
    if (!(e instanceof ConfigError || e instanceof SecretFileError)) throw e;
    process.stderr.write(`Configuration error: ${e.message}\n`);
    return 2;
  }
  process.stdout.write(`Checking ${config.xmppDomain} at ${config.xmppService} as ${config.botJid}...\n`);
  const checks = judge(await gatherFacts(config), config);
  process.stdout.write(`${formatReport(checks)}\n`);
  return exitCode(checks);
}

/** A control request stays well under the socket's 64 KiB: an import goes in parts of at most this many characters. */
const IMPORT_PART = 48 * 1024;

/** Invites in parts whose JSON stays under IMPORT_PART. */
export function importParts(invites: readonly Invite[]): Invite[][] {
  const parts: Invite[][] = [[]];
  let size = 0;
  for (const inv of invites) {
    const n = JSON.stringify(inv).length + 1;
    if (size + n > IMPORT_PART && parts.at(-1)!.length > 0) {
      parts.push([]);
      size = 0;
    }
    parts.at(-1)!.push(inv);
    size += n;
  }
  return parts;
}

/** One operation, by the running service or here under the lock; undefined (and said) when neither can. */
async function perform(config: Config, socket: string, op: Operation): Promise<Outcome | undefined> {
  const asked = await askService(socket, op);
  if (asked) return asked;
  try {
    return await runLocally(config, op);
  } catch (e) {
    if (!(e instanceof StoreLockedError)) throw e;
    process.stderr.write(`${e.message} but it does not answer on ${socket}; try again, or stop it first.\n`);
    return undefined;
  }
}

/** Read Prosody's invites, then import them in parts; the counts added up. */
async function importProsody(config: Config, socket: string, req: { dataDir: string; host: string }): Promise<Outcome | undefined> {
  const { readProsodyInvites } = await import('./import/from-prosody.js');
  let read;
  try {
    read = await readProsodyInvites(req.dataDir, req.host, new Date());
  } catch (e) {
    return { ok: false, text: (e as Error).message };
  }
  const total = { imported: 0, skipped: 0, unknownGroups: [] as string[] };
  for (const part of importParts(read.invites)) {
    const outcome = await perform(config, socket, { op: 'import', invites: part, skipped: [] });
    if (!outcome) return undefined;
    if (!outcome.ok || !outcome.imported) {
      // What went in before stays in (an import run again skips it): say how much that was.
      return total.imported ? { ...outcome, text: `${outcome.text} (${plural(total.imported, 'invite')} imported before this; run it again to go on)` } : outcome;
    }
    total.imported += outcome.imported.imported;
    total.skipped += outcome.imported.skipped;
    for (const g of outcome.imported.unknownGroups ?? []) if (!total.unknownGroups.includes(g)) total.unknownGroups.push(g);
  }
  return { ok: true, text: importText(total, read.skipped), imported: total };
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && argv[0] === 'doctor') return doctor();
  let req: CliRequest;
  try {
    req = parseCli(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  let config: Config;
  try {
    loadDotEnv();
    config = parseConfig(process.env, { localDefaults: true });
  } catch (e) {
    if (!(e instanceof ConfigError || e instanceof SecretFileError)) throw e;
    process.stderr.write(`Configuration error: ${e.message}\n`);
    return 2;
  }
  const socket = controlSocketPath(config.storeFile);
  const outcome = req.op === 'import-prosody' ? await importProsody(config, socket, req) : await perform(config, socket, req);
  if (!outcome) return 1;
  (outcome.ok ? process.stdout : process.stderr).write(`${outcome.text}\n`);
  return outcome.ok ? 0 : 1;
}

// Run only as the program itself (a test may import parseCli).
if (process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
