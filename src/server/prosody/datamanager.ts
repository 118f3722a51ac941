// How Prosody's util/datamanager names its files: a host or user name with every byte
// outside [A-Za-z0-9] written %xx (lower-case hex), so `example.com` is `example%2ecom`.
// Used by the local harness (writing a user's store) and the import (reading the host's).

export function datamanagerEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9]/.test(c) ? c : `%${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export function datamanagerDecode(s: string): string {
  return Buffer.from(s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
}
