// Preloaded into our service's own process by BENCH_TRACE=1 (`node --import`):
// for each socket read, the time until the next write on that socket, which is
// how long the service took to answer, keyed by what was read (element, `to`,
// first child). Only names are kept, never content. Written as JSON to
// $BENCH_TRACE_DIR/<pid>.json when the process exits; bench/lib/setup.ts sums it up.
// On the path of every answer it only reads the clock and keeps a reference to
// the bytes read: the kinds are parsed at exit. Plain JavaScript: it loads before tsx.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const dir = process.env.BENCH_TRACE_DIR;
/** [microseconds from a read to the answer's write, the bytes of that read]. */
const answered = [];
/** Socket → [hrtime of its last read, the bytes read]. */
const lastRead = new WeakMap();
const { emit, write } = net.Socket.prototype;

net.Socket.prototype.emit = function (event, chunk) {
  if (event === 'data') lastRead.set(this, [process.hrtime.bigint(), chunk]);
  return emit.apply(this, arguments);
};

net.Socket.prototype.write = function () {
  const read = lastRead.get(this);
  if (read) {
    answered.push([Number(process.hrtime.bigint() - read[0]) / 1000, read[1]]);
    lastRead.delete(this);
  }
  return write.apply(this, arguments);
};

const KIND = /^\s*<(\w+)[^>]*?\sto=(['"])([^'"]*)\2[^>]*>\s*<([\w:-]+)/;

process.on('exit', () => {
  if (!dir) return;
  const byKind = {};
  for (const [us, bytes] of answered) {
    const m = KIND.exec(String(bytes).slice(0, 500));
    if (m) (byKind[`<${m[1]} to='${m[3]}'><${m[4]}>`] ??= []).push(us);
  }
  fs.writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify(byKind));
});
