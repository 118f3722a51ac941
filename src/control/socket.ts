// The local control socket: how the CLI reaches the running service, so the
// store keeps one writer. One JSON request line in, one JSON outcome line out.
// The socket file is readable by its owner only: it grants admin power.
import { chmod, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { log } from '../log.js';
import type { Operation, Outcome } from './operations.js';

// An import's part can hold an invite with up to 1,000 recorded uses (~80 KB); the socket is the owner's alone.
const MAX_REQUEST = 4 * 1024 * 1024;

export function controlSocketPath(storeFile: string): string {
  return join(dirname(storeFile), 'control.sock');
}

export async function serveControl(path: string, handle: (op: Operation) => Promise<Outcome>): Promise<Server> {
  // We hold the writer lock, so a socket file left here belongs to a dead process.
  await unlink(path).catch(() => {});
  const server = createServer((conn) => {
    let buf = '';
    let taken = false;
    conn.setEncoding('utf8');
    conn.on('error', () => {});
    conn.on('data', (chunk: string) => {
      // One request per connection: bytes after its line must not run it again.
      if (taken) return;
      buf += chunk;
      if (buf.length > MAX_REQUEST) return conn.destroy();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      taken = true;
      let op: Operation;
      try {
        op = JSON.parse(buf.slice(0, nl)) as Operation;
      } catch {
        return conn.end(JSON.stringify({ ok: false, text: 'Malformed request.' }) + '\n');
      }
      handle(op)
        .catch((e: Error) => {
          log.error(`control: ${e.stack}`);
          return { ok: false, text: 'The service failed to do that; see its log.' };
        })
        .then((outcome) => conn.end(JSON.stringify(outcome) + '\n'));
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
  await chmod(path, 0o600);
  return server;
}

/** Ask the running service; undefined when nobody is listening. */
export function askService(path: string, op: Operation, timeoutMs = 10_000): Promise<Outcome | undefined> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(path);
    let buf = '';
    conn.setEncoding('utf8');
    conn.setTimeout(timeoutMs, () => conn.destroy(new Error(`the service did not answer on ${path}`)));
    conn.on('connect', () => conn.write(JSON.stringify(op) + '\n'));
    conn.on('data', (chunk: string) => (buf += chunk));
    conn.on('end', () => {
      try {
        resolve(JSON.parse(buf) as Outcome);
      } catch {
        reject(new Error('the service sent a malformed answer'));
      }
    });
    conn.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') resolve(undefined);
      else reject(e);
    });
  });
}
