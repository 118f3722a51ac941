// The one check of "a bare JID": local@domain, no resource, no spaces.
const BARE = /^([^@/\s]+)@([^@/\s]+)$/;

export function splitBareJid(value: string): { local: string; domain: string } | undefined {
  const m = BARE.exec(value);
  return m ? { local: m[1]!, domain: m[2]! } : undefined;
}
