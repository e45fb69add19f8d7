// A real SMTP sink for the email tests: smtp_sink.py (aiosmtpd) on a free loopback port, keeping each mail it
// accepts as a file. `mails()` reads them back with their headers; `next(pred)` waits for one that matches.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = new URL('./smtp_sink.py', import.meta.url).pathname;

/** Whether aiosmtpd can run here (the email suite needs it next to dovecot). */
export function smtpSinkAvailable() {
  return spawnSync('python3', ['-c', 'import aiosmtpd'], { stdio: 'ignore' }).status === 0;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

/** RFC 2047 encoded words (=?utf-8?b?...?= and =?utf-8?q?...?=) in a header value, decoded. */
export function decodeWords(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, charset, kind, text) => {
      const bytes = kind.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (m, x) => String.fromCharCode(parseInt(x, 16))), 'latin1');
      return new TextDecoder(charset).decode(bytes);
    });
}

/** The headers of a raw mail, unfolded and decoded, by lower-case name. */
export function headers(raw) {
  const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const out = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = decodeWords(line.slice(i + 1).trim());
  }
  return out;
}

/** A single-part mail's body as text, undoing its Content-Transfer-Encoding. */
export function bodyText(raw) {
  const h = headers(raw);
  const body = raw.split(/\r?\n\r?\n/).slice(1).join('\r\n\r\n');
  const encoding = (h['content-transfer-encoding'] ?? '').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, x) => String.fromCharCode(parseInt(x, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

export async function startSmtpSink() {
  if (!smtpSinkAvailable()) throw new Error('aiosmtpd is not installed: python3 -m pip install aiosmtpd');
  const dir = mkdtempSync(join(tmpdir(), 'kefu-smtp-'));
  const port = await freePort();
  const proc = spawn('python3', [SCRIPT, '--port', String(port), '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (c) => { err += c; });
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', (c) => { if (String(c).includes('READY')) resolve(); });
    proc.once('exit', (code) => reject(new Error(`the SMTP sink exited (${code}): ${err}`)));
  });
  const mails = () => readdirSync(dir).filter((f) => f.endsWith('.eml')).sort().map((f) => {
    const raw = readFileSync(join(dir, f), 'utf8');
    const envelope = JSON.parse(readFileSync(join(dir, f.replace('.eml', '.json')), 'utf8'));
    return { raw, headers: headers(raw), body: raw.split(/\r?\n\r?\n/).slice(1).join('\n\n'), text: bodyText(raw), ...envelope };
  });
  return {
    host: '127.0.0.1',
    port,
    mails,
    /** The first accepted mail matching `pred`, waiting up to `ms` for it to arrive. */
    async next(pred, ms = 20000) {
      const end = Date.now() + ms;
      for (;;) {
        const found = mails().find(pred);
        if (found) return found;
        if (Date.now() > end) throw new Error(`no such mail arrived; have ${mails().length}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => { if (proc.exitCode !== null) r(); else proc.once('exit', r); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
