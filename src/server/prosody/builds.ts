// Which Prosody to run: Debian 12's 0.12 (the system's /usr/bin/prosody) or 13
// from Debian 12 backports, unpacked beside it by scripts/setup.sh. Chosen with
// PROSODY_VERSION (`0.12`, the default, or `13`); the tests, `npm start` and
// `npm run bench` all read it here.
import fs from 'node:fs';
import path from 'node:path';

export type ProsodyVersion = '0.12' | '13';
export const PROSODY_VERSIONS: readonly ProsodyVersion[] = ['0.12', '13'];

export interface ProsodyBuild {
  version: ProsodyVersion;
  prosody: string;
  prosodyctl: string;
  /** Module trees to add to plugin_paths (community modules shipped apart from the server's own). */
  moduleDirs: string[];
  /** Where scripts/setup.sh installs it, for messages. */
  installHint: string;
}

/** Where 13 is unpacked; scripts/setup.sh reads the same variable. */
export const DEFAULT_PROSODY13_DIR = '/opt/prosody13';

export class ProsodyVersionError extends Error {}

function findOnPath(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/bin']) {
    const file = path.join(dir, name);
    try {
      if (fs.statSync(file).isFile()) {
        fs.accessSync(file, fs.constants.X_OK);
        return file;
      }
    } catch {
      // not here
    }
  }
  return undefined;
}

// Debian's prosody-modules installs straight into /usr/lib/prosody/modules, which
// 0.12 searches anyway; other packagings use a separate tree. Missing dirs are skipped.
// Never given to 13: it would load 0.12's modules before its own.
const SYSTEM_COMMUNITY_DIRS = [
  '/usr/lib/prosody/modules',
  '/usr/share/prosody-modules',
  '/usr/local/lib/prosody/modules',
  '/usr/local/lib/prosody-modules',
];

/** The build PROSODY_VERSION names (default 0.12). Throws ProsodyVersionError on another value. */
export function prosodyBuild(env: NodeJS.ProcessEnv = process.env): ProsodyBuild {
  const wanted = env.PROSODY_VERSION?.trim() || '0.12';
  if (wanted === '0.12') {
    return {
      version: '0.12',
      prosody: findOnPath('prosody') ?? '/usr/bin/prosody',
      prosodyctl: findOnPath('prosodyctl') ?? '/usr/bin/prosodyctl',
      moduleDirs: SYSTEM_COMMUNITY_DIRS.filter((d) => fs.existsSync(d)),
      installHint: 'sudo bash scripts/setup.sh (or apt-get install prosody prosody-modules)',
    };
  }
  if (wanted === '13') {
    const root = env.PROSODY13_DIR?.trim() || DEFAULT_PROSODY13_DIR;
    return {
      version: '13',
      prosody: path.join(root, 'usr/bin/prosody'),
      prosodyctl: path.join(root, 'usr/bin/prosodyctl'),
      moduleDirs: [],
      installHint: `sudo bash scripts/setup.sh (unpacks Prosody 13 into ${root})`,
    };
  }
  throw new ProsodyVersionError(`PROSODY_VERSION: expected 0.12 or 13, not ${JSON.stringify(wanted)}`);
}

export function buildInstalled(build: ProsodyBuild): boolean {
  return [build.prosody, build.prosodyctl].every((f) => {
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
