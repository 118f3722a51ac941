// CPU profiles summarised as the functions with the most self time: where the
// time goes in our path. `profile()` records this process around a piece of work
// (node:inspector); `profileDir()` reads the files `node --cpu-prof` wrote for
// another process (our service when it runs in its own process).
import { Session } from 'node:inspector/promises';
import fsp from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number }

/** Self time per function over one or more profiles, the `top` first, and the time not idle. */
function summarise(profiles: Profile[], top: number): string[] {
  const self = new Map<string, number>();
  let total = 0, wall = 0, busy = 0;
  for (const p of profiles) {
    let samples = 0, idle = 0;
    for (const n of p.nodes) {
      const f = n.callFrame;
      const hits = n.hitCount ?? 0;
      const where = f.url ? `${f.url.replace(/^file:\/\/.*?\/(node_modules|src|bench|test|commands)\//, '$1/')}:${f.lineNumber + 1}` : '';
      const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
      self.set(key, (self.get(key) ?? 0) + hits);
      samples += hits;
      if (f.functionName === '(idle)') idle += hits;
    }
    const ms = (p.endTime - p.startTime) / 1000;
    wall = Math.max(wall, ms);
    busy += samples ? ((samples - idle) * ms) / samples : 0;
    total += samples;
  }
  return [`${total} samples over ${wall.toFixed(0)} ms wall, ${busy.toFixed(0)} ms not idle (every thread); self time:`,
    ...[...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)];
}

export async function profile(work: () => Promise<void>, top = 15): Promise<string[]> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  await work();
  const { profile: p } = (await session.post('Profiler.stop')) as { profile: Profile };
  session.disconnect();
  return summarise([p], top);
}

/** Node flags that make a child process write its CPU profile into `dir` when it exits. */
export const cpuProfFlags = (dir: string): string[] => ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100'];

/** Every profile `node --cpu-prof` wrote into `dir` (a process and its loader thread, each start), together. */
export async function profileDir(dir: string, top = 15): Promise<string[]> {
  const files = (await fsp.readdir(dir).catch(() => [])).filter((f) => f.endsWith('.cpuprofile'));
  if (!files.length) return [`no profile in ${dir}`];
  return summarise(await Promise.all(files.map(async (f) => JSON.parse(await fsp.readFile(path.join(dir, f), 'utf8')) as Profile)), top);
}
