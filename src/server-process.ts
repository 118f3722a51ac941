// What the test harnesses' server child processes (LocalProsody, LocalPostgres) share:
// how the process ended, its log read back, and the log kept for CI.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

export interface ChildExit {
  code: number | null;
  /** The signal, or the spawn error's message when it never ran. */
  signal: string | null;
}

/** Resolves when `child` has exited (or failed to spawn), after `record` got how. */
export function watchExit(child: ChildProcess, record: (exit: ChildExit) => void): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      record({ code, signal });
      resolve();
    });
    child.once('error', (err) => {
      record({ code: null, signal: err.message });
      resolve();
    });
  });
}

/** The whole log, or '' when there is none (yet). */
export function readLog(logPath: string): Promise<string> {
  return fsp.readFile(logPath, 'utf8').catch(() => '');
}

export async function logTail(logPath: string, lines: number): Promise<string> {
  return (await readLog(logPath)).trimEnd().split('\n').slice(-lines).join('\n');
}

/** With PROSODY_KEEP_LOGS set (.ci/run sets it), copy the log there as `STEM-PID.log`, for CI to print on failure. */
export function keepLog(logPath: string, stem: string, pid: number | undefined): void {
  const keepDir = process.env.PROSODY_KEEP_LOGS;
  if (!keepDir || !fs.existsSync(logPath)) return;
  try {
    fs.mkdirSync(keepDir, { recursive: true });
    fs.copyFileSync(logPath, path.join(keepDir, `${stem}-${pid ?? 'unstarted'}.log`));
  } catch {
    // Keeping logs is a debugging aid; never let it break shutdown.
  }
}
