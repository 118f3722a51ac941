// Run our entry points (src/main.ts, src/cli.ts) as an admin would: a child
// process under tsx, with none of our configuration inherited from the test.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What `--import tsx` resolves to. */
export const TSX_LOADER = join(ROOT, 'node_modules/tsx/dist/loader.mjs');

export const CONFIG_VARS = [
  'XMPP_SERVICE', 'XMPP_DOMAIN', 'BOT_JID', 'BOT_PASSWORD', 'BOT_RESOURCE', 'BOT_RATE_LIMIT', 'ADHOC_RATE_LIMIT', 'RATE_LIMIT_ADMINS', 'MAX_INVITES_PER_DAY', 'ARCHIVE_DAYS', 'PREAUTH_RATE_LIMIT', 'PREAUTH_LIMIT_EXEMPT', 'COMPONENT_DOMAIN', 'COMPONENT_SERVICE',
  'COMPONENT_SECRET', 'ADMINS', 'STORE_FILE', 'STORE_URL', 'STORE_FSYNC', 'PUBLIC_URL', 'HTTP_HOST', 'HTTP_PORT', 'METRICS_TOKEN', 'INVITE_EXPIRY', 'RESET_EXPIRY',
  'ALLOW_USER_INVITES', 'ALLOW_CONTACT_INVITES', 'REGISTRATION_INVITE_ONLY', 'MAX_INVITES_PER_USER', 'XMPP_DEBUG',
];

/** The environment of a fresh machine: none of our variables, no NODE_OPTIONS; then `vars`. */
export function freshEnv(vars: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const v of [...CONFIG_VARS, 'NODE_OPTIONS']) delete env[v];
  return { ...env, ...vars };
}

/** Start a script of ours (path relative to the project root); `nodeArgs` go to node itself. */
export function spawnScript(script: string, args: string[], opts: { cwd: string; vars?: Record<string, string>; nodeArgs?: string[] }): ChildProcess {
  return spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', pathToFileURL(TSX_LOADER).href, join(ROOT, script), ...args], {
    cwd: opts.cwd,
    env: freshEnv(opts.vars),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Run a script of ours to its end. */
export function runScript(script: string, args: string[], opts: { cwd: string; vars?: Record<string, string> }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnScript(script, args, opts);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
