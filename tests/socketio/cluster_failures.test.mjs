// Two Kefu nodes on PostgreSQL + Redis when things go wrong (issue #6): a node killed with kill -9 under load, a
// rolling restart, an agent whose node dies for good, a reply whose sender died mid-send. Clients do what the load
// balancer and the widget do: move to the node that is up, sync from the last seq they saw, and send again what was
// not acked, with the same client id. Needs KEFU_TEST_DATABASE_URL and KEFU_TEST_REDIS_URL (CI requires them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startCluster, setupTeam, connectVisitor, connectAgent, onlineAgent, request, uid, api } from './harness.mjs';

const configured = Boolean(process.env.KEFU_TEST_DATABASE_URL && process.env.KEFU_TEST_REDIS_URL);
const skip = configured || process.env.KEFU_REQUIRE_CLUSTER === '1' ? false : 'set KEFU_TEST_DATABASE_URL and KEFU_TEST_REDIS_URL to run the cluster tests (CI does)';

// Short enough for a test, long enough for a debug build on two cores to reconnect within them.
const env = { KEFU_NODE_TTL_SECS: '2', KEFU_DELIVERY_LEASE_SECS: '3', KEFU_WEBHOOKS_ALLOW_PRIVATE: '1' };
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A visitor or an agent that outlives its node. `send` records every message the server acked; what was not acked
 * stays pending and is sent again (same client id) after `moveTo` reconnects it to another node.
 */
function party(kind, credentials) {
  const p = { kind, socket: null, acked: [], pending: new Map(), conversations: [], credentials, moving: false };
  p.connect = async (server) => {
    if (kind === 'visitor') {
      const { socket, session } = await connectVisitor(server, credentials.widgetToken, { visitorToken: credentials.visitorToken });
      credentials.visitorToken = session.visitor_token;
      p.socket = socket;
    } else {
      p.socket = (await connectAgent(server, credentials.token)).socket;
    }
    return p;
  };
  p.send = (payload) => {
    p.pending.set(payload.client_id, payload);
    return request(p.socket, 'message:send', payload, 3000).then((r) => {
      if (r.ok && p.pending.delete(payload.client_id)) p.acked.push(r.message);
    }, () => {});
  };
  /** The node went away: reconnect to `server`, catch up by seq, send again what was not acked. */
  p.moveTo = async (server) => {
    p.moving = true;
    p.socket.close();
    await p.connect(server);
    for (const cid of p.conversations) {
      const lastSeq = Math.max(0, ...p.acked.filter((m) => m.conversation_id === cid).map((m) => m.seq));
      const synced = await request(p.socket, 'sync', { conversation_id: cid, after_seq: lastSeq });
      assert.equal(synced.ok, true, JSON.stringify(synced));
    }
    await Promise.all([...p.pending.values()].map((payload) => p.send(payload)));
    p.moving = false;
  };
  return p;
}

/** Every party sends every `every` ms (agents round the conversations they hold) until `stop()`. */
function load(parties, every = 60) {
  let running = true;
  const inflight = [];
  const loops = parties.map(async (p, i) => {
    let n = 0;
    await pause(i * 3);
    while (running) {
      if (!p.moving && p.conversations.length) {
        n += 1;
        const cid = p.conversations[n % p.conversations.length];
        inflight.push(p.send({ conversation_id: cid, client_id: uid(p.kind[0]), content: `${p.kind} ${n}` }));
      }
      await pause(every);
    }
  });
  return {
    acked: () => parties.reduce((sum, p) => sum + p.acked.length, 0),
    stop: async () => { running = false; await Promise.all(loops); await Promise.all(inflight); },
  };
}

/** Two agents (one per node) and `visitors` visitors per node, each with a conversation routed to one of them. */
async function crowd(cluster, visitors) {
  const [a, b] = cluster.nodes;
  const setup = await setupTeam(a, { agents: 2, capacity: 4 * visitors, supervisor: true });
  const agents = [party('agent', setup.agents[0]), party('agent', setup.agents[1])];
  await agents[0].connect(a);
  await agents[1].connect(b);
  for (const agent of agents) {
    const ack = await request(agent.socket, 'status:set', { status: 'online' });
    assert.equal(ack.ok, true, JSON.stringify(ack));
  }
  const people = [];
  for (let i = 0; i < 2 * visitors; i += 1) {
    const v = party('visitor', { widgetToken: setup.widgetToken });
    await v.connect(i % 2 === 0 ? a : b);
    const opened = await request(v.socket, 'message:send', { client_id: uid('open'), content: `hello from visitor ${i}` });
    assert.equal(opened.ok, true, JSON.stringify(opened));
    v.acked.push(opened.message);
    v.conversations.push(opened.message.conversation_id);
    v.home = i % 2 === 0 ? 0 : 1;
    people.push(v);
  }
  const admin = setup.admin;
  const holders = new Map();
  for (const v of people) {
    const cid = v.conversations[0];
    const c = (await api(a, 'GET', `/api/v1/conversations/${cid}`, { token: admin })).body.conversation;
    assert.equal(c.status, 'assigned', JSON.stringify(c));
    holders.set(cid, c.assignee.id);
    agents.find((ag) => ag.credentials.id === c.assignee.id).conversations.push(cid);
  }
  agents[0].home = 0;
  agents[1].home = 1;
  return { setup, agents, visitors: people, admin, holders };
}

/** Every acked message is stored exactly once, seqs are gapless, each client id once, and a visitor's sync agrees. */
async function assertNothingLost(server, { visitors, agents, admin }) {
  const acked = [...visitors, ...agents].flatMap((p) => p.acked);
  for (const v of visitors) {
    const cid = v.conversations[0];
    const stored = await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: admin });
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    const messages = stored.body.messages;
    const ids = messages.map((m) => m.id);
    for (const m of acked.filter((m) => m.conversation_id === cid)) {
      assert.equal(ids.filter((id) => id === m.id).length, 1, `acked message ${m.seq} of ${cid} is stored exactly once`);
    }
    assert.deepEqual(messages.map((m) => m.seq), messages.map((_, i) => i + 1), 'seq stays gapless');
    const clientIds = messages.map((m) => m.client_id).filter(Boolean);
    assert.equal(new Set(clientIds).size, clientIds.length, 'no message was stored twice under one client id');
    const synced = await request(v.socket, 'sync', { conversation_id: cid, after_seq: 0 });
    assert.deepEqual(synced.messages.map((m) => m.id), ids, 'the visitor syncs the same history');
  }
  return acked.length;
}

/** Conversations still held by the agent who had them: nobody's work was requeued. */
async function assertStillHeld(server, { admin, holders }) {
  for (const [cid, agentId] of holders) {
    const c = (await api(server, 'GET', `/api/v1/conversations/${cid}`, { token: admin })).body.conversation;
    assert.equal(c.assignee?.id, agentId, `conversation ${cid} stayed with its agent`);
  }
}

test('a node killed with kill -9 under load: its clients move to the other node and every acked message is stored exactly once', { skip }, async () => {
  const cluster = await startCluster(2, { env, offlineGraceSecs: 10 });
  try {
    const [a, b] = cluster.nodes;
    const crowded = await crowd(cluster, 8);
    const { setup, agents, visitors } = crowded;
    const { socket: supervisor } = await connectAgent(b, setup.supervisor.token);
    const parties = [...agents, ...visitors];
    const traffic = load(parties);
    const deadline = Date.now() + 30000;
    while (traffic.acked() < 200 + parties.length && Date.now() < deadline) await pause(10);
    await a.kill9();
    const onA = parties.filter((p) => p.home === 0);
    await Promise.all(onA.map((p) => p.moveTo(b)));
    // They go on talking on B for a moment, then stop.
    const moved = traffic.acked();
    while (traffic.acked() < moved + 100 && Date.now() < deadline + 30000) await pause(10);
    await traffic.stop();
    for (const p of parties) assert.equal(p.pending.size, 0, `${p.kind}: everything sent was acked in the end`);

    const total = await assertNothingLost(b, crowded);
    assert.ok(total >= 300, `enough traffic to mean something (${total} acked)`);
    await assertStillHeld(b, crowded);
    assert.equal(supervisor.all('presence').some((d) => d.status === 'offline'), false, 'no agent went offline');
    for (const p of parties) p.socket.close();
    supervisor.close();
  } finally {
    await cluster.stop();
  }
});

test('a rolling restart (SIGTERM one node at a time) loses no acked message and requeues nobody', { skip }, async () => {
  // A grace shorter than the test: a node that took agents on the other node for gone would requeue their work.
  const cluster = await startCluster(2, { env, offlineGraceSecs: 3 });
  try {
    const [a, b] = cluster.nodes;
    const crowded = await crowd(cluster, 6);
    const parties = [...crowded.agents, ...crowded.visitors];
    const traffic = load(parties);
    const rolled = [];
    for (const [stopping, other, index] of [[a, b, 0], [b, a, 1]]) {
      const before = traffic.acked();
      while (traffic.acked() < before + 80) await pause(10);
      const leaving = parties.filter((p) => p.home === index);
      const exit = stopping.sigterm();
      // The node closes their sockets as it stops; they come back through the other node.
      await Promise.all(leaving.map((p) => p.moveTo(other)));
      rolled.push(await exit);
      await stopping.restart();
      for (const p of leaving) p.home = 1 - index;
    }
    // Talk on past the grace after the last restart.
    const after = traffic.acked();
    const graceOver = Date.now() + 4000;
    while (traffic.acked() < after + 60 || Date.now() < graceOver) await pause(10);
    await traffic.stop();
    assert.deepEqual(rolled.map((e) => e.code), [0, 0], 'both nodes stopped cleanly');
    for (const p of parties) assert.equal(p.pending.size, 0, `${p.kind}: everything sent was acked in the end`);
    await assertNothingLost(a, crowded);
    await assertStillHeld(a, crowded);
    const { body } = await api(a, 'GET', '/api/v1/users', { token: crowded.admin });
    for (const agent of crowded.agents) {
      assert.equal(body.users.find((u) => u.id === agent.credentials.id).presence, 'online', 'agents stayed online');
    }
    for (const p of parties) p.socket.close();
  } finally {
    await cluster.stop();
  }
});

test('an agent whose node dies and who never comes back goes offline after the node TTL and the grace, and a colleague takes over', { skip }, async () => {
  const cluster = await startCluster(2, { env, offlineGraceSecs: 2 });
  try {
    const [a, b] = cluster.nodes;
    const { widgetToken, agents, supervisor } = await setupTeam(a, { agents: 2, supervisor: true });
    const { socket: sup } = await connectAgent(b, supervisor.token);
    const leaving = await onlineAgent(a, agents[0]);
    const { socket: visitor } = await connectVisitor(b, widgetToken);
    const sent = await request(visitor, 'message:send', { client_id: uid('c'), content: 'help' });
    const cid = sent.message.conversation_id;
    await leaving.next('conversation:assigned', (d) => d.conversation.id === cid);
    const staying = await onlineAgent(b, agents[1]);
    const killedAt = Date.now();
    await a.kill9();
    const offline = await sup.next('presence', (d) => d.agent_id === agents[0].id && d.status === 'offline', 20000);
    assert.ok(offline);
    assert.ok(Date.now() - killedAt >= 2000, 'not before the grace ran out');
    const handed = await staying.next('conversation:assigned', (d) => d.conversation.id === cid, 10000);
    assert.equal(handed.conversation.assignee.id, agents[1].id);
    visitor.close(); staying.close(); sup.close();
  } finally {
    await cluster.stop();
  }
});

/** An integration's reply URL that never answers the first POST (its sender dies holding it), then answers 200. */
async function stalledReceiver() {
  const got = [];
  const waiters = [];
  const srv = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = JSON.parse(Buffer.concat(chunks).toString());
    got.push(body);
    for (const w of waiters.splice(0)) w();
    if (got.length === 1) return; // held open: the node sending it is about to die
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}/replies`,
    got,
    posts: async (n, ms = 30000) => {
      const until = Date.now() + ms;
      while (got.length < n) {
        if (Date.now() > until) throw new Error(`${got.length} of ${n} posts arrived`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 200); });
      }
    },
    stop: () => new Promise((r) => { srv.closeAllConnections(); srv.close(r); }),
  };
}

test('a reply held by a node killed mid-send is sent by the other node once the lease runs out', { skip }, async () => {
  const receiver = await stalledReceiver();
  const cluster = await startCluster(1, { env });
  try {
    const [a] = cluster.nodes;
    const setup = await setupTeam(a);
    const made = await api(a, 'POST', '/api/v1/inboxes', {
      token: setup.admin, body: { kind: 'api', name: uid('api'), teams: [setup.team.id], settings: { reply_url: receiver.url } },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const inbox = made.body.inbox;
    const agent = await onlineAgent(a, setup.agents[0]);
    const posted = await fetch(`${a.url}${inbox.webhook_path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${inbox.identity_secret}` },
      body: JSON.stringify({ contact: { id: uid('crm'), name: 'Li Na' }, message: { id: uid('m'), content: '发票呢？' } }),
    });
    assert.equal(posted.status, 201);
    const cid = (await posted.json()).message.conversation_id;
    await agent.next('conversation:assigned', (d) => d.conversation.id === cid);
    const reply = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: '已经发到您的邮箱' });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    await receiver.posts(1);
    // Node A holds the delivery (its POST is open). B joins; A dies.
    const b = await cluster.add();
    const { socket: watching } = await connectAgent(b, setup.agents[0].token);
    agent.close();
    await a.kill9();
    await receiver.posts(2);
    assert.equal(receiver.got[1].message.id, reply.message.id, 'the same reply, so the integration can drop a repeat');
    const sent = await watching.next('message:updated', (d) => d.message.id === reply.message.id && d.message.delivery.status === 'sent', 20000);
    assert.equal(sent.message.delivery.status, 'sent');
    watching.close();
  } finally {
    await cluster.stop();
    await receiver.stop();
  }
});
