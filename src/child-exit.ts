// How a server child process (Prosody, PostgreSQL) ended, recorded once: the harnesses
// read it to tell "still running" from "exited, with this code or signal".
import type { ChildProcess } from 'node:child_process';

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
