// Several Kefu nodes on one PostgreSQL database and one Redis (issue #6, first step): Socket.IO rooms span the
// nodes through the Redis adapter, so a visitor on one node and the agent answering them on another see each other's
// messages live; a node refuses to cluster with settings that cannot work (no shared secret key, SQLite, RESP2). Needs KEFU_TEST_DATABASE_URL and
// KEFU_TEST_REDIS_URL (CI sets both and requires them); skipped otherwise, as on a bare machine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, setupTeam, onlineAgent, connectVisitor, request, uid, BIN } from './harness.mjs';

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
