// Prosody mod_invites' storage (internal storage, 0.12): a map store
// "invite_token" kept as one Lua file per user, the host-wide one holding
// every account invite. Prosody reads and rewrites that whole file on every
// invite created or used; these helpers set it to a known size between samples.
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';

const token = () => randomBytes(18).toString('base64url');

/**
 * The text of a host-wide invite file holding `count` pending account invites,
 * written as Prosody's util.serialization writes them (same fields, same layout,
 * so the same bytes to parse and rewrite).
 */
export function nativeInviteFile(count: number, host: string, source: string): string {
  const created = Math.floor(Date.now() / 1000);
  const expires = created + 7 * 86400;
  const parts = ['return {\n'];
  for (let i = 0; i < count; i++) {
    const t = token();
    parts.push(`\t["${t}"] = {\n\t\t["allow_registration"] = true;\n\t\t["uri"] = "xmpp:${host}?register;preauth=${t}";\n` +
      `\t\t["created_at"] = ${created};\n\t\t["expires"] = ${expires};\n\t\t["additional_data"] = {\n\t\t\t["source"] = "${source}";\n\t\t};\n` +
      `\t\t["type"] = "register";\n\t\t["token"] = "${t}";\n\t\t["jid"] = "${host}";\n\t};\n`);
  }
  parts.push('};\n');
  return parts.join('');
}

/** Put the native host's invite store in a known state: `text` as the host file, no per-user files. */
export async function setNativeStore(nativeDataDir: string, text: string): Promise<void> {
  await fsp.writeFile(path.join(nativeDataDir, 'invite_token.dat'), text);
  // Empty the per-user files but keep their directory: Prosody caches that it exists.
  const dir = path.join(nativeDataDir, 'invite_token');
  for (const f of await fsp.readdir(dir).catch(() => [])) await fsp.rm(path.join(dir, f), { force: true });
}
