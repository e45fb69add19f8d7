// Test harness: starts the real `kefu` binary on port 0 (SQLite in a temp dir, or a fresh PostgreSQL database
// when KEFU_TEST_DATABASE_URL is set), and gives tests REST and Socket.IO clients with event collectors.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { io } from 'socket.io-client';

export const ADMIN = { email: 'admin@kefu.test', password: 'admin-password-1' };
export const BIN = process.env.KEFU_BIN ?? new URL('../../target/debug/kefu', import.meta.url).pathname;

async function freshPostgres() {
  const base = process.env.KEFU_TEST_DATABASE_URL;
  if (!base) return null;
  const { default: pg } = await import('pg');
  const name = `kefu_t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, base };
}

async function dropPostgres(db) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: db.base });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`);
  await client.end();
}

/** A running Kefu. `restart()` starts it again on the same database (and, when possible, the same port). */
export async function startServer(options = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'kefu-test-'));
  // Nodes of one cluster share a database: the first one's owner drops it.
  const pgdb = options.pgdb ?? (await freshPostgres());
  const server = { dataDir, pgdb, proc: null, url: null, output: '' };
  const env = {
    ...process.env,
    KEFU_LOG: process.env.KEFU_LOG ?? 'warn',
    KEFU_ADMIN_EMAIL: ADMIN.email,
    KEFU_ADMIN_PASSWORD: ADMIN.password,
    KEFU_OFFLINE_GRACE_SECS: String(options.offlineGraceSecs ?? 30),
    KEFU_QUEUE_TIMEOUT_SECS: String(options.queueTimeoutSecs ?? 600),
    ...(options.env ?? {}),
  };
  delete env.KEFU_DATABASE_URL;
  if (pgdb) env.KEFU_DATABASE_URL = pgdb.url;

  server.start = (listen = '127.0.0.1:0') =>
    new Promise((resolve, reject) => {
      const proc = spawn(BIN, ['serve', '--listen', listen, '--data-dir', dataDir, ...(options.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      server.proc = proc;
      let settled = false;
      const timer = setTimeout(() => {
        if (!settled) { settled = true; proc.kill('SIGKILL'); reject(new Error(`kefu did not start:\n${server.output}`)); }
      }, 30000);
      const onData = (chunk) => {
        server.output += chunk.toString();
        const m = server.output.match(/Kefu listening on (http:\/\/[\d.:]+)/g);
        if (m && !settled && server.output.lastIndexOf('Kefu listening on') >= server.startedAt) {
          settled = true;
          clearTimeout(timer);
          server.url = m[m.length - 1].replace('Kefu listening on ', '');
          resolve(server);
        }
      };
      server.startedAt = server.output.length;
      proc.stdout.on('data', onData);
      proc.stderr.on('data', (c) => { server.output += c.toString(); });
      proc.on('exit', (code, signal) => {
        server.exit = { code, signal };
        if (!settled) { settled = true; clearTimeout(timer); reject(new Error(`kefu exited (${code ?? signal}):\n${server.output}`)); }
      });
    });

  server.waitExit = () =>
    new Promise((resolve) => {
      if (server.proc.exitCode !== null || server.proc.signalCode !== null) return resolve(server.exit);
      server.proc.once('exit', (code, signal) => resolve({ code, signal }));
    });

  server.kill9 = async () => { server.proc.kill('SIGKILL'); await server.waitExit(); };
  server.sigterm = async () => { server.proc.kill('SIGTERM'); return server.waitExit(); };
  server.restart = async () => {
    const port = new URL(server.url).port;
    try { await server.start(`127.0.0.1:${port}`); } catch { await server.start(); }
    return server;
  };
  server.stop = async () => {
    if (server.proc && server.proc.exitCode === null && server.proc.signalCode === null) {
      server.proc.kill('SIGKILL');
      await server.waitExit();
    }
    if (pgdb && !options.pgdb) await dropPostgres(pgdb).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  };

  await server.start();
  return server;
}

/**
 * Several Kefu nodes sharing one fresh PostgreSQL database (KEFU_TEST_DATABASE_URL) and Redis (KEFU_TEST_REDIS_URL),
 * on loopback ports, with one secret key and a Redis prefix of their own. Started at the same moment on the empty
 * database, as an operator's supervisor would: one migrates and sets up, the others wait for it. `add()` starts one
 * more node. `null` when PostgreSQL or Redis is not configured.
 */
export async function startCluster(count = 2, options = {}) {
  if (!process.env.KEFU_TEST_DATABASE_URL || !process.env.KEFU_TEST_REDIS_URL) return null;
  const pgdb = await freshPostgres();
  const env = {
    KEFU_REDIS_URL: process.env.KEFU_TEST_REDIS_URL,
    KEFU_REDIS_PREFIX: `kefu-test-${randomBytes(6).toString('hex')}`,
    KEFU_SECRET_KEY: randomBytes(32).toString('base64'),
    ...(options.env ?? {}),
  };
  const nodes = await Promise.all(Array.from({ length: count }, () => startServer({ ...options, env, pgdb })));
  return {
    nodes,
    env,
    add: async () => {
      const node = await startServer({ ...options, env, pgdb });
      nodes.push(node);
      return node;
    },
    stop: async () => {
      for (const n of nodes) await n.stop();
      await dropPostgres(pgdb).catch(() => {});
    },
  };
}

/** REST call; resolves to {status, body}. */
/** An agent sends a file into a conversation (`POST /api/v1/conversations/{id}/attachments`). */
export async function sendFile(server, token, conversationId, { filename, type, data, clientId = uid('file'), isPrivate = false }) {
  const q = new URLSearchParams({ filename, client_id: clientId, ...(isPrivate ? { private: 'true' } : {}) });
  const res = await fetch(`${server.url}/api/v1/conversations/${conversationId}/attachments?${q}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...(type ? { 'content-type': type } : {}) },
    body: data,
  });
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, body };
}

/** A stored file's bytes, as an agent downloads it. */
export async function downloadFile(server, token, attachmentId) {
  const res = await fetch(`${server.url}/api/v1/attachments/${attachmentId}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type'), data: Buffer.from(await res.arrayBuffer()) };
}

export async function api(server, method, path, { token, body, headers = {} } = {}) {
  const res = await fetch(server.url + path, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
  return { status: res.status, body: parsed, headers: res.headers };
}

export async function login(server, email, password) {
  const r = await api(server, 'POST', '/api/v1/auth/login', { body: { email, password } });
  if (r.status !== 200) throw new Error(`login ${email} failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token;
}

let counter = 0;
export function uid(prefix = 'id') {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${randomBytes(3).toString('hex')}`;
}

/**
 * A team, a web inbox routed to it, and `agents` agents in the team (logged in). Returns everything a test needs.
 */
export async function setupTeam(server, { agents = 1, capacity = 5, supervisor = false } = {}) {
  const admin = await login(server, ADMIN.email, ADMIN.password);
  const team = (await api(server, 'POST', '/api/v1/teams', { token: admin, body: { name: uid('team') } })).body.team;
  const inbox = (await api(server, 'POST', '/api/v1/inboxes', {
    token: admin, body: { kind: 'web', name: uid('inbox'), teams: [team.id] },
  })).body.inbox;
  const made = [];
  for (let i = 0; i < agents; i++) {
    const email = `${uid('agent')}@kefu.test`;
    const created = await api(server, 'POST', '/api/v1/users', {
      token: admin, body: { email, name: `Agent ${i + 1}`, password: 'agent-password-1', role: 'agent', capacity },
    });
    if (created.status !== 201) throw new Error(`create agent: ${JSON.stringify(created.body)}`);
    await api(server, 'PUT', `/api/v1/teams/${team.id}/members/${created.body.user.id}`, { token: admin });
    made.push({ ...created.body.user, token: await login(server, email, 'agent-password-1') });
  }
  let sup = null;
  if (supervisor) {
    const email = `${uid('sup')}@kefu.test`;
    const created = await api(server, 'POST', '/api/v1/users', {
      token: admin, body: { email, name: 'Supervisor', password: 'super-password-1', role: 'supervisor', capacity: 0 },
    });
    sup = { ...created.body.user, token: await login(server, email, 'super-password-1') };
  }
  return { admin, team, inbox, widgetToken: inbox.widget_token, agents: made, supervisor: sup };
}

/** Records every event a socket receives, so a test can wait for one that may already have arrived. */
function collect(socket) {
  const seen = [];
  const waiters = [];
  socket.onAny((event, ...args) => {
    const entry = { event, data: args[0] };
    // The first waiter that wants it takes it; otherwise it is kept for a later `next`.
    const w = waiters.find((w) => w.event === event && w.pred(entry.data));
    if (w) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(entry.data);
    } else {
      seen.push(entry);
    }
  });
  socket.seen = seen;
  /** Resolves with the first (already seen or future) `event` whose data satisfies `pred`. */
  socket.next = (event, pred = () => true, ms = 10000) => {
    const found = seen.find((e) => e.event === event && pred(e.data));
    if (found) {
      seen.splice(seen.indexOf(found), 1);
      return Promise.resolve(found.data);
    }
    return new Promise((resolve, reject) => {
      const w = { event, pred, resolve: (d) => { clearTimeout(t); resolve(d); } };
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`timed out waiting for ${event}; saw: ${JSON.stringify(seen.map((e) => e.event))}`));
      }, ms);
      waiters.push(w);
    });
  };
  /** All events of a kind seen so far (not consumed). */
  socket.all = (event) => seen.filter((e) => e.event === event).map((e) => e.data);
  return socket;
}

function connect(server, namespace, auth, opts = {}) {
  return new Promise((resolve, reject) => {
    const socket = collect(io(server.url + namespace, {
      auth,
      transports: opts.transports ?? ['polling', 'websocket'],
      upgrade: opts.upgrade ?? true,
      reconnection: opts.reconnection ?? false,
      forceNew: true,
      timeout: 10000,
    }));
    socket.once('connect_error', (e) => { socket.close(); reject(e); });
    socket.once('session', (session) => resolve({ socket, session }));
  });
}

export const connectVisitor = (server, widgetToken, opts = {}) =>
  connect(server, '/visitor', {
    widget_token: widgetToken,
    ...(opts.visitorToken ? { visitor_token: opts.visitorToken } : {}),
    ...(opts.identity ? { identity: opts.identity } : {}),
  }, opts);

export const connectAgent = (server, token, opts = {}) => connect(server, '/agent', { token }, opts);

/** Emits and resolves with the server's ack. */
export function request(socket, event, payload, ms = 10000) {
  return socket.timeout(ms).emitWithAck(event, payload);
}

/** An agent connected and online. */
export async function onlineAgent(server, agent, opts = {}) {
  const { socket } = await connectAgent(server, agent.token, opts);
  const ack = await request(socket, 'status:set', { status: 'online' });
  if (!ack.ok) throw new Error(`status:set failed: ${JSON.stringify(ack)}`);
  return socket;
}

/** A team with one online agent and a visitor whose first message opened a conversation the agent now holds. */
export async function startConversation(server, { content = 'hello', team = {} } = {}) {
  const setup = await setupTeam(server, team);
  const agent = await onlineAgent(server, setup.agents[0]);
  const { socket: visitor, session } = await connectVisitor(server, setup.widgetToken);
  const sent = await request(visitor, 'message:send', { client_id: uid('c'), content });
  if (!sent.ok) throw new Error(`opening message refused: ${JSON.stringify(sent)}`);
  const cid = sent.message.conversation_id;
  await agent.next('conversation:assigned', (d) => d.conversation.id === cid);
  return { ...setup, agent, visitor, session, cid, first: sent.message };
}
