// Files that hold secrets or invites are the owner's alone: 0600 in folders of
// 0700. The component secret is the key to every account (whoever connects as
// the component decides registrations and password resets), so a secret file
// others can read stops the service instead of being used.
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { log } from './log.js';

export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/**
 * Create `dir` (and parents) if needed, and make it 0700 if it is ours and others may enter it.
 * A sticky folder (/tmp, /var/tmp) is shared by design and left as it is: closing it broke
 * every other user of the machine (a STORE_FILE directly in /tmp made /tmp 0700 as root).
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  const st = statSync(dir);
  if ((st.mode & 0o1000) !== 0) {
    log.warn(`${dir} is a shared folder (sticky): left as it is; keep secrets and invites in a folder of their own`);
    return;
  }
  if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) {
    chmodSync(dir, PRIVATE_DIR);
    log.info(`made ${dir} private (0700): it holds secrets and invites`);
  }
}

export class SecretFileError extends Error {}

/** Refuse a file that holds `what` when users other than its owner can read or change it. */
export function checkSecretFile(file: string, what: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    return; // not there: nothing read from it
  }
  if ((mode & 0o077) === 0) return;
  const octal = (mode & 0o777).toString(8).padStart(3, '0');
  throw new SecretFileError(
    `${file} holds ${what} but other users can read it (mode ${octal}); whoever has it can take over accounts. ` +
    `Run: chmod 600 ${file}`,
  );
}
