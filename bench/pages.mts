// Benchmark 6: the invite pages a person opens, over real HTTP on loopback (one
// keep-alive client, one request at a time): the landing page per device and
// language, a per-app page and the registration form. No target in the issue:
// printed for information (issue 16 measured 0.6 ms p50 for the landing page
// before it, and 44 ms for Prosody's mod_invites_page on the same machine).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InviteService } from '../src/invites/service.js';
import { LowdbStore } from '../src/store/lowdb/lowdb-store.js';
import { loadClients } from '../src/web/clients.js';
import { buildWeb } from '../src/web/server.js';
import type { BenchReport } from './lib/stats.js';

const UA = {
  android: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36',
  iphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  desktop: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
};

const quantile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

export async function run(requests = 3000): Promise<BenchReport> {
  const dir = await mkdtemp(join(tmpdir(), 'invites-bench-pages-'));
  const store = await LowdbStore.open(join(dir, 'invites.json'));
  const service = new InviteService(store, {
    domain: 'example.org', admins: [], allowUserInvites: false, allowContactInvites: true,
    maxInvitesPerUser: 10, inviteExpiry: 7 * 86400, resetExpiry: 86400, publicUrl: 'http://127.0.0.1',
  });
  const web = await buildWeb({
    config: { publicUrl: 'http://127.0.0.1', httpHost: '127.0.0.1', httpPort: 0, trustProxy: false, xmppDomain: 'example.org', language: 'en', botJid: 'invitebot@example.org' },
    service,
    admin: { addUser: async () => ({ ok: true }), changePassword: async () => ({ ok: true }) },
    clients: loadClients(),
  }, { pageLimit: { max: 1e9, windowMs: 60_000 } });
  const lines: string[] = [];
  try {
    await web.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(web.server.address() as { port: number }).port}`;
    const created = await service.create({ system: 'cli' }, { kind: 'account' });
    if (!created.ok) throw new Error(created.message);
    const page = `/invite/${created.token}`;
    const cases: [string, string, Record<string, string>][] = [
      ['landing, Android, German', page, { 'user-agent': UA.android, 'accept-language': 'de-DE,de;q=0.9' }],
      ['landing, iPhone, French', page, { 'user-agent': UA.iphone, 'accept-language': 'fr-FR' }],
      ['landing, desktop, English', page, { 'user-agent': UA.desktop, 'accept-language': 'en-GB,en;q=0.8' }],
      ['per-app page (Conversations), Spanish', `${page}/app/conversations`, { 'user-agent': UA.android, 'accept-language': 'es' }],
      ['registration form, desktop', `${page}/register`, { 'user-agent': UA.desktop }],
    ];
    const warmUp = requests / 6;
    for (const [, path, headers] of cases) for (let i = 0; i < warmUp; i++) await (await fetch(base + path, { headers })).arrayBuffer();
    lines.push(`${requests} sequential GETs per page over HTTP on loopback, after ${warmUp} of each to warm up:`);
    for (const [what, path, headers] of cases) {
      const ms: number[] = [];
      for (let i = 0; i < requests; i++) {
        const t0 = performance.now();
        const res = await fetch(base + path, { headers });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${what}: HTTP ${res.status}`);
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      lines.push(`  ${what.padEnd(40)} p50 ${quantile(ms, 0.5).toFixed(2)} ms  p99 ${quantile(ms, 0.99).toFixed(2)} ms`);
    }
  } finally {
    await web.close();
    service.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
  return { title: '6. Invite pages (HTTP, loopback)', lines, targets: [] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatReport } = await import('./lib/stats.js');
  console.log(formatReport(await run()));
}
