// Which ejabberd to run: Debian 12's 23.01 (the system's package) or 24.12 from
// Debian 12 backports, unpacked under /opt/ejabberd24 by scripts/setup.sh with the
// erlang-p1-* libraries it needs newer than bookworm's. Both run on bookworm's
// Erlang/OTP 25; ERL_LIBS says which ejabberd and which libraries load (its dirs
// come before OTP's own lib dir, where bookworm's older p1 libraries are).
// Chosen with EJABBERD_VERSION (`23.01`, the default, or `24.12`).
import fs from 'node:fs';
import path from 'node:path';

export type EjabberdVersion = '23.01' | '24.12';
export const EJABBERD_VERSIONS: readonly EjabberdVersion[] = ['23.01', '24.12'];

export interface EjabberdBuild {
  version: EjabberdVersion;
  /** The Erlang emulator (bookworm's, for both). */
  erl: string;
  /** ERL_LIBS, in order: the ejabberd app dir's parent first. */
  erlLibs: string[];
  /** ejabberd's own app dir (ebin, include, priv), when installed. */
  appDir: string | undefined;
  /** Headers a module is built against (scripts/build-ejabberd-bridge.sh uses 23.01's for both). */
  includeDir: string | undefined;
  /** Where scripts/setup.sh installs it, for messages. */
  installHint: string;
}

/** Where 24.12 is unpacked; scripts/setup.sh reads the same variable. */
export const DEFAULT_EJABBERD24_DIR = '/opt/ejabberd24';
// Debian's multiarch dir for the ejabberd app (the p1 libraries go to /usr/lib/erlang/lib).
const ARCH_LIB = 'usr/lib/x86_64-linux-gnu';

export class EjabberdVersionError extends Error {}

export class EjabberdNotInstalledError extends Error {
  constructor(build: EjabberdBuild = ejabberdBuild()) {
    const what = build.appDir ? `no ${build.erl}` : `no ejabberd-${build.version}* in ${build.erlLibs[0]}`;
    super(`ejabberd ${build.version} is not installed (${what}): run ${build.installHint}`);
    this.name = 'EjabberdNotInstalledError';
  }
}

/** dir/ejabberd-VERSION* holding an ebin/ejabberd.app (Debian names it ejabberd-23.01-1, ejabberd-24.12-3~bpo12+1). */
function findAppDir(dir: string, version: string): string | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.startsWith(`ejabberd-${version}`)).sort();
  } catch {
    return undefined;
  }
  // The longest name is the real dir; Debian adds a short symlink to it.
  const found = names.reverse().find((n) => fs.existsSync(path.join(dir, n, 'ebin', 'ejabberd.app')));
  return found && path.join(dir, found);
}

function findErl(env: NodeJS.ProcessEnv): string {
  for (const dir of [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/bin']) {
    const file = path.join(dir, 'erl');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return '/usr/bin/erl';
}

/** The build EJABBERD_VERSION names (default 23.01). Throws EjabberdVersionError on another value. */
export function ejabberdBuild(env: NodeJS.ProcessEnv = process.env): EjabberdBuild {
  const wanted = env.EJABBERD_VERSION?.trim() || '23.01';
  const erl = findErl(env);
  if (wanted === '23.01') {
    const libs = path.join('/', ARCH_LIB);
    const appDir = findAppDir(libs, wanted);
    return {
      version: wanted, erl, erlLibs: [libs], appDir,
      includeDir: appDir && path.join(appDir, 'include'),
      installHint: 'sudo bash scripts/setup.sh (or apt-get install ejabberd)',
    };
  }
  if (wanted === '24.12') {
    const root = env.EJABBERD24_DIR?.trim() || DEFAULT_EJABBERD24_DIR;
    const libs = path.join(root, ARCH_LIB);
    const appDir = findAppDir(libs, wanted);
    return {
      version: wanted, erl, erlLibs: [libs, path.join(root, 'usr/lib/erlang/lib')], appDir,
      includeDir: appDir && path.join(appDir, 'include'),
      installHint: `sudo bash scripts/setup.sh (unpacks ejabberd 24.12 into ${root})`,
    };
  }
  throw new EjabberdVersionError(`EJABBERD_VERSION: expected 23.01 or 24.12, not ${JSON.stringify(wanted)}`);
}

export function ejabberdInstalled(build: EjabberdBuild = ejabberdBuild()): boolean {
  if (!build.appDir) return false;
  try {
    fs.accessSync(build.erl, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
