// Test helper: a private, throwaway Dovecot IMAP server for the email-channel tests.
//
//   const mail = await startMailServer({ users: [{ user: 'support@kefu.test', password: 'secret-1' }], idle: true });
//   mail.host, mail.imapPort, mail.users, mail.dir
//   await mail.deliver('support@kefu.test', rawRfc5322);   // string or Buffer, stored byte for byte
//   await mail.count('support@kefu.test');                  // messages in INBOX
//   await mail.restart();                                    // same port, same mail, same UIDVALIDITY
//   await mail.stop();                                       // kills dovecot and removes the temp dir
//
// Each call runs its own `dovecot -F` from a config written into a fresh temp dir, so it never depends on (or
// disturbs) the system's /etc/dovecot or a system dovecot service. Mail is delivered with `doveadm save`, i.e.
// the way an MTA would put it into the mailbox, so Kefu only ever sees it through IMAP like a real mailbox.
// `idle: false` makes the server stop advertising IDLE, which is how the polling fallback gets exercised.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, chownSync, chmodSync, rmSync, existsSync, readFileSync, accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';
import net from 'node:net';

const NOT_INSTALLED = 'dovecot is not installed: apt-get install dovecot-imapd';

// Debian puts dovecot in /usr/sbin, which is often not on a non-root PATH; look there explicitly.
function findBinary(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try { accessSync(candidate, constants.X_OK); return candidate; } catch { /* keep looking */ }
  }
  return null;
}

/**
 * Whether the mail tests can run here. They need dovecot, which a fresh machine does not have: the README's
 * `cargo test` then skips them, saying why; CI sets KEFU_REQUIRE_MAILSERVER=1, so there a missing dovecot fails.
 */
export function mailServerAvailable() {
  const installed = findBinary('dovecot') !== null && findBinary('doveadm') !== null;
  if (!installed && process.env.KEFU_REQUIRE_MAILSERVER === '1') throw new Error(NOT_INSTALLED);
  return installed;
}

function lookupId(flag, name) {
  try { return Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()); } catch { return null; }
}

// Dovecot refuses to access mail as uid 0, and as root it also needs unprivileged accounts for its own
// login/internal processes. Debian's packages create `dovecot` and `dovenull`; `nobody` is the fallback. When the
// tests are not run as root, everything simply runs as the current user (dovecot supports that).
function accounts() {
  if (process.getuid() !== 0) {
    const name = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
    return { mailUid: process.getuid(), mailGid: process.getgid(), loginUser: name, internalUser: name };
  }
  const exists = (n) => lookupId('-u', n) !== null;
  const mailUser = ['dovecot', 'dovenull', 'nobody'].find(exists);
  if (!mailUser) throw new Error('no unprivileged account (dovecot, dovenull or nobody) to own the test mail');
  return {
    mailUid: lookupId('-u', mailUser),
    mailGid: lookupId('-g', mailUser),
    loginUser: exists('dovenull') ? 'dovenull' : mailUser,
    internalUser: exists('dovecot') ? 'dovecot' : mailUser,
  };
}

// Dovecot 2.3's default capability list minus IDLE. Setting imap_capability replaces the list both before login
// (greeting / CAPABILITY) and after it, so a client that honours CAPABILITY never tries IDLE.
const CAPABILITIES_WITHOUT_IDLE = [
  'IMAP4rev1', 'SASL-IR', 'LOGIN-REFERRALS', 'ID', 'ENABLE', 'SORT', 'SORT=DISPLAY', 'THREAD=REFERENCES',
  'THREAD=REFS', 'THREAD=ORDEREDSUBJECT', 'MULTIAPPEND', 'URL-PARTIAL', 'CATENATE', 'UNSELECT', 'CHILDREN',
  'NAMESPACE', 'UIDPLUS', 'LIST-EXTENDED', 'I18NLEVEL=1', 'CONDSTORE', 'QRESYNC', 'ESEARCH', 'ESORT', 'SEARCHRES',
  'WITHIN', 'CONTEXT=SEARCH', 'LIST-STATUS', 'BINARY', 'MOVE', 'LITERAL+', 'SPECIAL-USE',
].join(' ');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// One connection attempt: resolves true when the server greets with "* OK", false on anything else.
function probeGreeting(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok) => { clearTimeout(timer); sock.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      if (buf.includes('\n')) done(buf.startsWith('* OK'));
    });
    sock.on('error', () => done(false));
    sock.on('close', () => done(false));
  });
}

function run(bin, args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', reject);
    // doveadm may exit before reading all of stdin on failure; the exit code reports that, not EPIPE.
    child.stdin.on('error', () => {});
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${[bin, ...args].join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || stdout.trim()}`));
    });
    child.stdin.end(input ?? undefined);
  });
}

// Processes still alive when the test runner exits (a crashed test, a forgotten stop()) are killed here, so no
// dovecot outlives the run; its own children exit when the master goes away.
// A forgotten server must not keep the test file's process alive either (its child and pipe are unref'd below),
// and a test file killed by the runner's timeout (SIGTERM) or Ctrl-C cleans up before dying the default way.
const live = new Set();
function killAll() {
  for (const server of live) {
    try { server.proc?.kill('SIGKILL'); } catch { /* already gone */ }
    try { rmSync(server.dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
  live.clear();
}
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killAll();
    // Someone else handles this signal: leave the decision to exit to them. Otherwise die as if unhandled.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

export async function startMailServer({ users = [{ user: 'support@kefu.test', password: 'secret-1' }], idle = true } = {}) {
  const dovecotBin = findBinary('dovecot');
  const doveadmBin = findBinary('doveadm');
  if (!dovecotBin || !doveadmBin) throw new Error(NOT_INSTALLED);
  for (const { user, password } of users) {
    // passwd-file is colon separated, one line per user.
    if (/[:\n\r]/.test(user) || /[:\n\r]/.test(password)) throw new Error(`user/password must not contain ':' or newlines: ${user}`);
  }

  const ids = accounts();
  // Unix socket paths are limited to ~108 bytes; a long TMPDIR would make dovecot's sockets fail to bind.
  const base = tmpdir().length > 40 ? '/tmp' : tmpdir();
  const dir = mkdtempSync(join(base, 'kefu-dovecot-'));
  // Login and auth processes run unprivileged and must be able to traverse the dir (mkdtemp makes it 0700).
  chmodSync(dir, 0o755);
  const runDir = join(dir, 'run');
  const stateDir = join(dir, 'state');
  const mailDir = join(dir, 'mail');
  const conf = join(dir, 'dovecot.conf');
  const passwd = join(dir, 'passwd');
  const logFile = join(dir, 'dovecot.log');
  mkdirSync(stateDir);
  mkdirSync(mailDir);
  if (process.getuid() === 0) chownSync(mailDir, ids.mailUid, ids.mailGid);

  // The auth process (running as the internal user) reads this file.
  writeFileSync(passwd, users.map(({ user, password }) => `${user}:{PLAIN}${password}::::::\n`).join(''), { mode: 0o640 });
  if (process.getuid() === 0) chownSync(passwd, 0, lookupId('-g', ids.internalUser) ?? 0);

  const server = { host: '127.0.0.1', imapPort: 0, users, dir, proc: null, exited: null, stderr: '' };

  const writeConfig = (port) => writeFileSync(conf, `# Written by tests/socketio/mailserver.mjs; nothing is included from /etc.
base_dir = ${runDir}
state_dir = ${stateDir}
log_path = ${logFile}
info_log_path = ${logFile}
instance_name = kefu-test-${port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
default_login_user = ${ids.loginUser}
default_internal_user = ${ids.internalUser}
# Only the test mail uid is valid, so mail is never accessed as root.
first_valid_uid = ${ids.mailUid}
last_valid_uid = ${ids.mailUid}
first_valid_gid = ${ids.mailGid}
last_valid_gid = ${ids.mailGid}
mail_location = maildir:~/Maildir
# Tests throw the mail away; fsync only slows them down.
mail_fsync = never
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${passwd}
}
userdb {
  driver = static
  args = uid=${ids.mailUid} gid=${ids.mailGid} home=${mailDir}/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
${idle ? '' : `imap_capability = ${CAPABILITIES_WITHOUT_IDLE}\n`}`);

  const waitExit = () => server.exited ?? Promise.resolve();

  const logTail = () => {
    let log = '';
    try { log = readFileSync(logFile, 'utf8'); } catch { /* no log yet */ }
    return `${server.stderr}${log}`.split('\n').slice(-30).join('\n');
  };

  // Start dovecot on `port` and wait for the IMAP greeting. Rejects (with the log) if dovecot exits or never greets.
  const launch = async (port) => {
    writeConfig(port);
    server.stderr = '';
    const proc = spawn(dovecotBin, ['-F', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    server.proc = proc;
    live.add(server);
    proc.stderr.on('data', (c) => { server.stderr += c.toString('utf8'); });
    // Only pending work (a probe, a doveadm call, stop()'s SIGKILL timer) should hold the event loop open.
    proc.unref();
    proc.stderr.unref?.();
    let exitedEarly = false;
    server.exited = new Promise((resolve) => proc.once('exit', () => { exitedEarly = true; server.proc = null; resolve(); }));
    proc.once('error', (e) => { server.stderr += `${e.message}\n`; });

    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (exitedEarly) break;
      if (await probeGreeting(port, 500)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    const reason = exitedEarly ? 'exited' : 'did not greet within 10 s';
    if (!exitedEarly) { proc.kill('SIGKILL'); await waitExit(); }
    const err = new Error(`dovecot ${reason} on 127.0.0.1:${port}:\n${logTail()}`);
    err.addressInUse = /address already in use|EADDRINUSE/i.test(err.message);
    throw err;
  };

  const halt = async () => {
    const proc = server.proc;
    if (!proc) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await waitExit();
    clearTimeout(timer);
  };

  // The port picked via port 0 can be taken by someone else before dovecot binds it; pick another then.
  const start = async (fixedPort) => {
    for (let attempt = 1; ; attempt++) {
      const port = fixedPort ?? await freePort();
      try {
        await launch(port);
        server.imapPort = port;
        return;
      } catch (e) {
        if (!e.addressInUse || attempt >= 5) throw e;
        // On restart the same port is required: give the old socket a moment instead of moving.
        if (fixedPort) await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  };

  try {
    await start();
  } catch (e) {
    live.delete(server);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const doveadm = (args, input) => run(doveadmBin, ['-c', conf, ...args], input);

  return {
    host: server.host,
    get imapPort() { return server.imapPort; },
    users,
    dir,
    conf,
    logFile,
    /** Store a complete RFC 5322 message (string or Buffer, stored as is) in `user`'s INBOX. */
    async deliver(user, raw) {
      await doveadm(['save', '-u', user, '-m', 'INBOX'], Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw), 'utf8'));
    },
    /** Number of messages in `user`'s INBOX. */
    async count(user) {
      const { stdout } = await doveadm(['-f', 'flow', 'mailbox', 'status', '-u', user, 'messages', 'INBOX']);
      const m = /messages=(\d+)/.exec(stdout);
      if (!m) throw new Error(`unexpected doveadm mailbox status output: ${stdout}`);
      return Number(m[1]);
    },
    /** Stop dovecot (keeping the mail) and start it again on the same port. */
    async restart() {
      await halt();
      await start(server.imapPort);
    },
    /** Stop dovecot and delete everything it stored. Safe to call twice. */
    async stop() {
      await halt();
      live.delete(server);
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
    /** The tail of dovecot's log, for assertion messages. */
    log: logTail,
  };
}
