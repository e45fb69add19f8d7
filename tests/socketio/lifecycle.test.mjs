// The server as an operator sees it: nothing acked is lost to kill -9, SIGTERM stops cleanly, bad settings are
// named at start, and the CLI sets up a database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, setupTeam, connectVisitor, onlineAgent, request, uid, api, login } from './harness.mjs';

const BIN = process.env.KEFU_BIN ?? new URL('../../target/debug/kefu', import.meta.url).pathname;

test('every message acked before kill -9 is there exactly once after restart', async () => {
  const server = await startServer();
  try {
    const { widgetToken, agents } = await setupTeam(server);
    const agent = await onlineAgent(server, agents[0]);
    const first = await connectVisitor(server, widgetToken);
    const opened = await request(first.socket, 'message:send', { client_id: uid('c'), content: 'start' });
    const cid = opened.message.conversation_id;
    await agent.next('conversation:assigned', (d) => d.conversation.id === cid);

    const acked = [opened.message];
    const pending = [];
    let killed = false;
    // Both sides keep sending without waiting for acks; the server is killed once 30 acks are in, with more
    // messages in flight.
    const producer = (async () => {
      for (let i = 0; i < 1000 && !killed; i++) {
        const fromVisitor = i % 2 === 0;
        const socket = fromVisitor ? first.socket : agent;
        const payload = { client_id: uid(fromVisitor ? 'v' : 'a'), content: `${fromVisitor ? 'v' : 'a'}${i}`, conversation_id: cid };
        pending.push(request(socket, 'message:send', payload, 5000).then((r) => { if (r.ok) acked.push(r.message); }, () => {}));
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const deadline = Date.now() + 20000;
    while (acked.length < 31 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await server.kill9();
    killed = true;
    await producer;
    await Promise.all(pending);
    assert.ok(acked.length >= 31, `30 messages were acked before the kill (got ${acked.length - 1})`);

    await server.restart();
    const token = await login(server, agents[0].email, 'agent-password-1');
    const stored = await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token });
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    const ids = stored.body.messages.map((m) => m.id);
    for (const m of acked) {
      assert.equal(ids.filter((id) => id === m.id).length, 1, `acked message seq ${m.seq} is stored exactly once`);
    }
    const seqs = stored.body.messages.map((m) => m.seq);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'seq stays gapless');
    const back = await connectVisitor(server, widgetToken, { visitorToken: first.session.visitor_token });
    const synced = await request(back.socket, 'sync', { conversation_id: cid, after_seq: 0 });
    assert.deepEqual(synced.messages.map((m) => m.id), ids, 'the visitor syncs the same history');
    back.socket.close();
  } finally {
    await server.stop();
  }
});

test('SIGTERM closes sockets and exits cleanly', async () => {
  const server = await startServer();
  try {
    const { widgetToken } = await setupTeam(server);
    const { socket } = await connectVisitor(server, widgetToken, { transports: ['websocket'], upgrade: false });
    const disconnected = new Promise((resolve) => socket.once('disconnect', resolve));
    const exit = await server.sigterm();
    assert.equal(exit.code, 0, server.output);
    await disconnected;
  } finally {
    await server.stop();
  }
});

test('invalid settings fail at start with a message naming the setting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kefu-cfg-'));
  try {
    const badListen = spawnSync(BIN, ['serve', '--listen', 'not-an-address', '--data-dir', dir], { encoding: 'utf8' });
    assert.notEqual(badListen.status, 0);
    assert.match(badListen.stderr, /KEFU_LISTEN/);
    const badDb = spawnSync(BIN, ['serve', '--listen', '127.0.0.1:0'], {
      encoding: 'utf8', env: { ...process.env, KEFU_DATABASE_URL: 'mysql://nope' },
    });
    assert.notEqual(badDb.status, 0);
    assert.match(badDb.stderr, /KEFU_DATABASE_URL/);
    for (const [name, value, said] of [
      ['KEFU_TRUSTED_PROXIES', '10.0.0.0/40', /KEFU_TRUSTED_PROXIES: "10.0.0.0\/40": the prefix length must be 0 to 32/],
      ['KEFU_NODE_TTL_SECS', '1', /KEFU_NODE_TTL_SECS/],
      ['KEFU_DELIVERY_LEASE_SECS', '1', /KEFU_DELIVERY_LEASE_SECS/],
      ['KEFU_WORKER_THREADS', '0', /KEFU_WORKER_THREADS/],
    ]) {
      const bad = spawnSync(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dir], { encoding: 'utf8', timeout: 20000, env: { ...process.env, [name]: value } });
      assert.notEqual(bad.status, 0, name);
      assert.match(bad.stderr, said);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('KEFU_WORKER_THREADS sets how many threads serve connections', async () => {
  for (const threads of [1, 3]) {
    const server = await startServer({ env: { KEFU_WORKER_THREADS: String(threads) } });
    try {
      assert.match(server.output, new RegExp(`Serving with ${threads} worker threads`));
      // And it serves: a visitor connects and gets a session.
      const { widgetToken } = await setupTeam(server);
      const { socket, session } = await connectVisitor(server, widgetToken);
      assert.ok(session.visitor_token);
      socket.close();
    } finally {
      await server.stop();
    }
  }
});

test('migrate and admin create set up a database the server then serves', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kefu-cli-'));
  const env = { ...process.env, KEFU_DATA_DIR: dir };
  delete env.KEFU_DATABASE_URL;
  try {
    const migrated = spawnSync(BIN, ['migrate'], { encoding: 'utf8', env });
    assert.equal(migrated.status, 0, migrated.stderr);
    const created = spawnSync(BIN, ['admin', 'create', '--email', 'Boss@Example.com', '--password', 'long-enough-1', '--name', '老板'], { encoding: 'utf8', env });
    assert.equal(created.status, 0, created.stderr);
    const weak = spawnSync(BIN, ['admin', 'create', '--email', 'x@example.com', '--password', 'short', '--name', 'X'], { encoding: 'utf8', env });
    assert.notEqual(weak.status, 0);
    assert.match(weak.stderr, /password/);
    // Serve the CLI-made database.
    const { spawn } = await import('node:child_process');
    const proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise((resolve, reject) => {
        let out = '';
        proc.stdout.on('data', (c) => { out += c; const m = out.match(/Kefu listening on (http:\/\/[\d.:]+)/); if (m) resolve(m[1]); });
        proc.on('exit', () => reject(new Error(out)));
      });
      const r = await api({ url }, 'POST', '/api/v1/auth/login', { body: { email: 'boss@example.com', password: 'long-enough-1' } });
      assert.equal(r.status, 200);
      assert.equal(r.body.user.role, 'admin');
      assert.equal(r.body.user.name, '老板');
    } finally {
      proc.kill('SIGKILL');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an empty database without admin settings tells how to create the first admin', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kefu-empty-'));
  const { spawn } = await import('node:child_process');
  const env = { ...process.env, KEFU_DATA_DIR: dir };
  delete env.KEFU_ADMIN_EMAIL; delete env.KEFU_ADMIN_PASSWORD; delete env.KEFU_DATABASE_URL;
  const proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const out = await new Promise((resolve, reject) => {
      let text = '';
      proc.stdout.on('data', (c) => { text += c; if (text.includes('Kefu listening on')) resolve(text); });
      proc.on('exit', () => reject(new Error(text)));
    });
    assert.match(out, /kefu admin create --email/);
    const url = out.match(/Kefu listening on (http:\/\/[\d.:]+)/)[1];
    const inboxes = await api({ url }, 'GET', '/api/v1/inboxes');
    assert.equal(inboxes.status, 401);
    assert.equal(inboxes.body.error.code, 'unauthorized');
  } finally {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
