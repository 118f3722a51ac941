// npm run invites -- create account [--admin] [--role ROLE]... [--username U] [--uses N] | create reset USER | list | revoke ID | doctor
// The store keeps one writer: when the service runs, ask it over its control
// socket; otherwise take the writer lock and do the work here. `doctor` asks
// the configured server what it offers (src/server/doctor.ts).
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadDotEnv, parseConfig } from './config.js';
import { type Operation, type Outcome, runOperation } from './control/operations.js';
import { askService, controlSocketPath } from './control/socket.js';
import { openCore } from './core.js';
import { parseRoles } from './invites/roles.js';
import { SecretFileError } from './private-files.js';
import { exitCode, formatReport, judge } from './server/doctor.js';
import { gatherFacts } from './server/doctor-probes.js';
import { StoreLockedError } from './store/lowdb/writer-lock.js';

const USAGE = `Usage:
  npm run invites -- create account [--admin] [--role ROLE]... [--username USER] [--uses N]
  npm run invites -- create reset USER
  npm run invites -- list
  npm run invites -- revoke ID
  npm run invites -- doctor`;

class UsageError extends Error {}

export function parseCli(argv: string[]): Operation {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { admin: { type: 'boolean' }, role: { type: 'string', multiple: true }, username: { type: 'string' }, uses: { type: 'string' } },
  });
  const [verb, what, arg, ...rest] = positionals;
  const flags = Object.keys(values).length > 0;
  if (verb === 'create' && what === 'account' && arg === undefined) {
    const uses = values.uses === undefined ? undefined : Number(values.uses);
    if (uses !== undefined && !/^\d+$/.test(values.uses!)) throw new UsageError('--uses takes a whole number');
    // --admin is --role admin, as in prosodyctl mod_invites generate.
    const roles = parseRoles([...(values.admin ? ['admin'] : []), ...(values.role ?? [])]);
    if ('message' in roles) throw new UsageError(roles.message);
    return { op: 'create', request: { kind: 'account', username: values.username, roles: roles.roles, maxUses: uses } };
  }
  if (verb === 'create' && what === 'reset' && arg !== undefined && rest.length === 0 && !flags) {
    return { op: 'create', request: { kind: 'reset', username: arg } };
  }
  if (verb === 'list' && what === undefined && !flags) return { op: 'list' };
  if (verb === 'revoke' && what !== undefined && arg === undefined && !flags) return { op: 'revoke', id: what };
  throw new UsageError(`Unknown command: ${positionals.join(' ') || '(none)'}`);
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

async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && argv[0] === 'doctor') return doctor();
  let op: Operation;
  try {
    op = parseCli(argv);
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
  let outcome = await askService(socket, op);
  if (!outcome) {
    try {
      outcome = await runLocally(config, op);
    } catch (e) {
      if (!(e instanceof StoreLockedError)) throw e;
      process.stderr.write(`${e.message} but it does not answer on ${socket}; try again, or stop it first.\n`);
      return 1;
    }
  }
  (outcome.ok ? process.stdout : process.stderr).write(`${outcome.text}\n`);
  return outcome.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  },
);
