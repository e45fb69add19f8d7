// Several Kefu nodes on one PostgreSQL database and one Redis (issue #6): Socket.IO rooms span the nodes through the
// Redis adapter, so a visitor on one node and the agent answering them on another see each other's messages live; a
// node that loses Redis says so and stops; a node refuses to cluster with settings that cannot work (no shared secret
// key, SQLite, RESP2). Needs KEFU_TEST_DATABASE_URL and KEFU_TEST_REDIS_URL (CI sets both and requires them);
// skipped otherwise, as on a bare machine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, setupTeam, onlineAgent, connectAgent, connectVisitor, request, uid, BIN } from './harness.mjs';

const configured = Boolean(process.env.KEFU_TEST_DATABASE_URL && process.env.KEFU_TEST_REDIS_URL);
const required = process.env.KEFU_REQUIRE_CLUSTER === '1';
const skip = configured || required ? false : 'set KEFU_TEST_DATABASE_URL and KEFU_TEST_REDIS_URL to run the cluster tests (CI does)';

let cluster;
before(async () => {
  if (skip) return;
  cluster = await startCluster(2);
  assert.ok(cluster, 'PostgreSQL and Redis are configured');
});
after(async () => {
  await cluster?.stop();
});

test('a visitor on one node and the agent on the other see each other\'s messages live', { skip }, async () => {
  const [a, b] = cluster.nodes;
  const setup = await setupTeam(a);
  const agent = await onlineAgent(b, setup.agents[0]);
  const { socket: visitor } = await connectVisitor(a, setup.widgetToken);
  const sent = await request(visitor, 'message:send', { client_id: uid('c'), content: '跨节点的第一条消息' });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  const cid = sent.message.conversation_id;
  // Routed on node A to the agent online on node B, and pushed to B through Redis.
  await agent.next('conversation:assigned', (d) => d.conversation.id === cid);
  const arrived = await agent.next('message:new', (d) => d.message.id === sent.message.id);
  assert.equal(arrived.message.content, '跨节点的第一条消息');

  const reply = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: 'Answered from node B' });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  const back = await visitor.next('message:new', (d) => d.message.id === reply.message.id);
  assert.equal(back.message.content, 'Answered from node B');
  visitor.close();
  agent.close();
});

test('presence, typing and a logout cross nodes, and each push arrives once', { skip }, async () => {
  const [a, b] = cluster.nodes;
  const setup = await setupTeam(a, { supervisor: true });
  const { socket: supervisor } = await connectAgent(b, setup.supervisor.token);
  const agent = await onlineAgent(a, setup.agents[0]);
  await supervisor.next('presence', (d) => d.agent_id === setup.agents[0].id && d.status === 'online');
  const { socket: visitor } = await connectVisitor(b, setup.widgetToken);
  const sent = await request(visitor, 'message:send', { client_id: uid('c'), content: 'one push per message' });
  const cid = sent.message.conversation_id;
  await agent.next('message:new', (d) => d.message.id === sent.message.id);
  visitor.emit('typing', { conversation_id: cid, is_typing: true });
  await agent.next('typing', (d) => d.conversation_id === cid && d.is_typing);
  // A later message on the same path: by the time it arrives, a repeat of the first would have too.
  const second = await request(visitor, 'message:send', { conversation_id: cid, client_id: uid('c'), content: 'second' });
  await agent.next('message:new', (d) => d.message.id === second.message.id);
  assert.equal(agent.all('message:new').filter((d) => d.message.id === sent.message.id).length, 0, 'pushed once');
  assert.equal(agent.all('typing').length, 0, 'typing pushed once');

  // The agent's second tab on node B ends with the session they log out of on node A.
  const { socket: tab } = await connectAgent(b, setup.agents[0].token);
  const closed = new Promise((resolve) => tab.once('disconnect', resolve));
  const out = await fetch(`${a.url}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${setup.agents[0].token}` } });
  assert.ok(out.ok, `logout answered ${out.status}`);
  await closed;
  visitor.close(); agent.close(); supervisor.close();
});

/** A Redis of this test's own, on a free loopback port, that the test can kill. */
async function privateRedis() {
  const port = await new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => { const { port } = probe.address(); probe.close(() => resolve(port)); });
  });
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}?protocol=resp3`;
  for (let i = 0; i < 100; i += 1) {
    const up = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    const kill = () => new Promise((r) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return r();
      proc.once('exit', r);
      proc.kill('SIGKILL');
    });
    if (up) return { url, kill };
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

test('a node that loses Redis serves its own sockets, says it is not ready, then stops so it can be restarted', { skip }, async () => {
  const redis = await privateRedis();
  const lonely = await startCluster(1, { env: { KEFU_REDIS_URL: redis.url, KEFU_NODE_TTL_SECS: '2' } });
  try {
    const [node] = lonely.nodes;
    assert.equal((await fetch(`${node.url}/readyz`)).status, 200);
    const setup = await setupTeam(node);
    const agent = await onlineAgent(node, setup.agents[0]);
    const { socket: visitor } = await connectVisitor(node, setup.widgetToken);
    await redis.kill();
    // Pushes cannot cross nodes any more; this node's own sockets are still served.
    const sent = await request(visitor, 'message:send', { client_id: uid('c'), content: 'Redis just went away' });
    assert.equal(sent.ok, true, JSON.stringify(sent));
    await agent.next('message:new', (d) => d.message.id === sent.message.id);
    let ready;
    for (let i = 0; i < 100; i += 1) {
      ready = await fetch(`${node.url}/readyz`);
      if (ready.status === 503) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(ready.status, 503);
    assert.equal((await ready.json()).error.code, 'realtime_unavailable');
    const exit = await node.waitExit();
    assert.notEqual(exit.code, 0, 'it exits with an error, for its supervisor to restart it');
    assert.match(node.output, /Redis no longer carried the other nodes' pushes/);
    visitor.close(); agent.close();
  } finally {
    await lonely.stop();
    await redis.kill().catch(() => {});
  }
});

test('a node refuses to cluster with settings that cannot work, naming the setting', () => {
  // Checked before anything is opened: no PostgreSQL or Redis is needed to see these refusals.
  const dataDir = mkdtempSync(join(tmpdir(), 'kefu-test-'));
  const start = (extra) => {
    const env = { ...process.env, KEFU_REDIS_URL: 'redis://127.0.0.1:6379', KEFU_DATABASE_URL: 'postgres://root@127.0.0.1:5432/test', KEFU_SECRET_KEY: 'k'.repeat(40), ...extra };
    const run = spawnSync(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], { env, encoding: 'utf8', timeout: 20000 });
    assert.notEqual(run.status, 0);
    return run.stderr + run.stdout;
  };
  try {
    assert.match(start({ KEFU_SECRET_KEY: '' }), /KEFU_SECRET_KEY is required with KEFU_REDIS_URL/);
    assert.match(start({ KEFU_DATABASE_URL: `sqlite:${join(dataDir, 'kefu.db')}` }), /KEFU_REDIS_URL needs a PostgreSQL KEFU_DATABASE_URL/);
    assert.match(start({ KEFU_REDIS_URL: 'rediss://127.0.0.1:6379' }), /is not redis:\/\/host:port/);
    assert.match(start({ KEFU_REDIS_URL: 'redis://127.0.0.1:6379?protocol=resp2' }), /needs RESP3/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
