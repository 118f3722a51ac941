// One line per event on stderr, for the admin. Secrets never reach here on
// purpose; redactText() is a second net for anything that quotes a stanza.
type Level = 'debug' | 'info' | 'warn' | 'error';

const TOKEN_IN_TEXT = /(preauth=|\/invite\/|token=["']?)[A-Za-z0-9_-]{8,}/g;

export function redactText(s: string): string {
  return s.replace(TOKEN_IN_TEXT, '$1[hidden]');
}

function write(level: Level, msg: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${redactText(msg)}\n`);
}

export const log = {
  debug: (msg: string) => write('debug', msg),
  info: (msg: string) => write('info', msg),
  warn: (msg: string) => write('warn', msg),
  error: (msg: string) => write('error', msg),
};
