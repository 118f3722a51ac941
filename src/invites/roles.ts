// Roles an account invite can give the new account. The names are Prosody's
// (prosody:admin, ...) without the prefix; a server adapter maps them to the
// server's own. `admin` also makes an administrator of this service.
export const ROLES = ['admin', 'member', 'registered', 'guest'] as const;
export type Role = (typeof ROLES)[number];

/** The role a person typed (`admin`, `prosody:admin`, any case), or undefined. */
export function parseRole(text: string): Role | undefined {
  const name = text.trim().toLowerCase().replace(/^prosody:/, '');
  return (ROLES as readonly string[]).includes(name) ? (name as Role) : undefined;
}

/** Every typed role, or the sentence saying which one is not a role. */
export function parseRoles(texts: readonly string[]): { roles: Role[] } | { message: string } {
  const roles: Role[] = [];
  for (const t of texts) {
    const r = parseRole(t);
    if (!r) return { message: `"${t.slice(0, 40)}" is not a role; the roles are ${ROLES.join(', ')}.` };
    roles.push(r);
  }
  return { roles: sortRoles(roles) };
}

/** Without repeats, the most powerful first (a server with one primary role takes the first). */
export function sortRoles(roles: readonly string[]): Role[] {
  return ROLES.filter((r) => roles.includes(r));
}
