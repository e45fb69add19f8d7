// Routing through the real server: queue positions, agents pulling from the queue, presence reaching
// supervisors, the offline grace that requeues a vanished agent's work, and the queue timeout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, setupTeam, connectVisitor, connectAgent, onlineAgent, request, uid } from './harness.mjs';

let server;
before(async () => { server = await startServer({ offlineGraceSecs: 1, queueTimeoutSecs: 2 }); });
after(async () => { await server?.stop(); });

test('waiting visitors learn their queue position and an agent coming online takes them in order', async () => {
  const { widgetToken, agents } = await setupTeam(server, { capacity: 2 });
  const visitors = [];
  for (let i = 0; i < 3; i++) {
    const { socket } = await connectVisitor(server, widgetToken);
    const sent = await request(socket, 'message:send', { client_id: uid('c'), content: `visitor ${i}` });
    const cid = sent.message.conversation_id;
    const update = await socket.next('conversation:updated', (d) => d.conversation.id === cid);
    assert.equal(update.conversation.status, 'queued');
    assert.equal(update.conversation.queue_position, i + 1);
    visitors.push({ socket, cid });
  }
  const agent = await onlineAgent(server, agents[0]);
  const a0 = await agent.next('conversation:assigned', (d) => d.conversation.id === visitors[0].cid);
  const a1 = await agent.next('conversation:assigned', (d) => d.conversation.id === visitors[1].cid);
  assert.equal(a0.conversation.assignee.id, agents[0].id);
  assert.equal(a1.conversation.assignee.id, agents[0].id);
  const moved = await visitors[2].socket.next('conversation:updated', (d) => d.conversation.queue_position === 1);
  assert.equal(moved.conversation.status, 'queued', 'capacity 2: the third keeps waiting, now first in line');
  for (const v of visitors.slice(0, 2)) {
    await v.socket.next('conversation:updated', (d) => d.conversation.status === 'assigned');
  }
  for (const v of visitors) v.socket.close();
  agent.close();
});

test('an away agent keeps their conversations but gets no new ones', async () => {
  const { widgetToken, agents } = await setupTeam(server, { agents: 2 });
  const a1 = await onlineAgent(server, agents[0]);
  const v1 = (await connectVisitor(server, widgetToken)).socket;
  const c1 = (await request(v1, 'message:send', { client_id: uid('c'), content: 'one' })).message.conversation_id;
  await a1.next('conversation:assigned', (d) => d.conversation.id === c1);
  assert.equal((await request(a1, 'status:set', { status: 'away' })).ok, true);
  const v2 = (await connectVisitor(server, widgetToken)).socket;
  const c2 = (await request(v2, 'message:send', { client_id: uid('c'), content: 'two' })).message.conversation_id;
  await v2.next('conversation:updated', (d) => d.conversation.id === c2 && d.conversation.status === 'queued');
  const a2 = await onlineAgent(server, agents[1]);
  const taken = await a2.next('conversation:assigned', (d) => d.conversation.id === c2);
  assert.equal(taken.conversation.assignee.id, agents[1].id);
  const stillMine = await request(a1, 'message:send', { conversation_id: c1, client_id: uid('x'), content: 'still here' });
  assert.equal(stillMine.ok, true);
  const bad = await request(a1, 'status:set', { status: 'sleeping' });
  assert.deepEqual([bad.ok, bad.error.code], [false, 'invalid_payload']);
  v1.close(); v2.close(); a1.close(); a2.close();
});

test('presence changes reach supervisors', async () => {
  const { agents, supervisor } = await setupTeam(server, { supervisor: true });
  const { socket: sup } = await connectAgent(server, supervisor.token);
  const agent = await onlineAgent(server, agents[0]);
  const online = await sup.next('presence', (d) => d.agent_id === agents[0].id && d.status === 'online');
  assert.equal(online.name, 'Agent 1');
  await request(agent, 'status:set', { status: 'offline' });
  await sup.next('presence', (d) => d.agent_id === agents[0].id && d.status === 'offline');
  sup.close(); agent.close();
});

test('an agent gone past the grace period goes offline and their conversations go to a colleague', async () => {
  const { widgetToken, agents, supervisor } = await setupTeam(server, { agents: 2, supervisor: true });
  const { socket: sup } = await connectAgent(server, supervisor.token);
  const leaving = await onlineAgent(server, agents[0]);
  const { socket: visitor } = await connectVisitor(server, widgetToken);
  const cid = (await request(visitor, 'message:send', { client_id: uid('c'), content: 'help' })).message.conversation_id;
  await leaving.next('conversation:assigned', (d) => d.conversation.id === cid);
  const staying = await onlineAgent(server, agents[1]);
  leaving.disconnect();
  const requeued = await sup.next('conversation:updated', (d) => d.conversation.id === cid && d.conversation.status === 'queued', 10000);
  assert.equal(requeued.previous_assignee_id, agents[0].id);
  const handed = await staying.next('conversation:assigned', (d) => d.conversation.id === cid, 10000);
  assert.equal(handed.conversation.assignee.id, agents[1].id);
  await sup.next('presence', (d) => d.agent_id === agents[0].id && d.status === 'offline');
  const seen = await visitor.next('conversation:updated', (d) => d.conversation.assignee?.id === agents[1].id);
  assert.equal(seen.conversation.assignee.name, 'Agent 2');
  visitor.close(); staying.close(); sup.close();
});

test('an agent who reconnects within the grace period keeps their conversations', async () => {
  const { widgetToken, agents, supervisor } = await setupTeam(server, { agents: 3, supervisor: true });
  const { socket: sup } = await connectAgent(server, supervisor.token);
  const first = await onlineAgent(server, agents[0]);
  const { socket: visitor } = await connectVisitor(server, widgetToken);
  const cid = (await request(visitor, 'message:send', { client_id: uid('c'), content: 'hi' })).message.conversation_id;
  await first.next('conversation:assigned', (d) => d.conversation.id === cid);
  const second = await onlineAgent(server, agents[1]);
  const control = await onlineAgent(server, agents[2]);
  // A second tab connects before the first closes: the agent never loses their last socket.
  const { socket: again } = await connectAgent(server, agents[0].token);
  first.disconnect();
  // The control agent leaves just after; once their grace has run out, so has any timer the first close started.
  control.disconnect();
  await sup.next('presence', (d) => d.agent_id === agents[2].id && d.status === 'offline', 10000);
  assert.equal(sup.all('presence').some((d) => d.agent_id === agents[0].id && d.status === 'offline'), false);
  const still = await request(again, 'message:send', { conversation_id: cid, client_id: uid('x'), content: 'still mine' });
  assert.equal(still.ok, true, JSON.stringify(still));
  assert.equal(second.all('conversation:assigned').some((d) => d.conversation.id === cid), false);
  visitor.close(); again.close(); second.close(); sup.close();
});

test('a visitor waiting past the queue timeout is told so once', async () => {
  const { widgetToken } = await setupTeam(server);
  const { socket: visitor } = await connectVisitor(server, widgetToken);
  const cid = (await request(visitor, 'message:send', { client_id: uid('c'), content: 'anyone?' })).message.conversation_id;
  const timeout = await visitor.next('conversation:queue_timeout', (d) => d.conversation_id === cid, 10000);
  assert.equal(timeout.conversation_id, cid);
  // A later visitor's timeout comes several timer ticks after the first: by then a repeat would have shown.
  const { socket: later } = await connectVisitor(server, widgetToken);
  const cid2 = (await request(later, 'message:send', { client_id: uid('c'), content: 'me too' })).message.conversation_id;
  await later.next('conversation:queue_timeout', (d) => d.conversation_id === cid2, 10000);
  assert.equal(visitor.all('conversation:queue_timeout').length, 0, 'told once, not on every tick');
  visitor.close(); later.close();
});

test('a waiting visitor is told the expected wait once the queue has shown its pace', async () => {
  // A server of its own: the pace is learned per organisation, and other tests' queues must not teach it.
  const fresh = await startServer();
  try {
    const { widgetToken, agents } = await setupTeam(fresh, { capacity: 1 });
    const agent = await onlineAgent(fresh, agents[0]);
    const open = async (i) => {
      const { socket } = await connectVisitor(fresh, widgetToken);
      const sent = await request(socket, 'message:send', { client_id: uid('c'), content: `visitor ${i}` });
      const cid = sent.message.conversation_id;
      const update = await socket.next('conversation:updated', (d) => d.conversation.id === cid);
      return { socket, cid, update };
    };
    const served = await open(0);
    await agent.next('conversation:assigned', (d) => d.conversation.id === served.cid);
    const next = await open(1);
    const last = await open(2);
    assert.equal(last.update.conversation.queue_position, 2);
    assert.equal(last.update.conversation.expected_wait_secs, undefined, 'no promise before the queue has moved');
    // The one in front must have waited over a second, or its wait says nothing about the queue's pace.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await request(agent, 'conversation:close', { conversation_id: served.cid })).ok, true);
    await agent.next('conversation:assigned', (d) => d.conversation.id === next.cid);
    const moved = await last.socket.next('conversation:updated', (d) => d.conversation.queue_position === 1);
    assert.ok(moved.conversation.expected_wait_secs >= 1 && moved.conversation.expected_wait_secs <= 30,
      JSON.stringify(moved.conversation));
    for (const v of [served, next, last]) v.socket.close();
    agent.close();
  } finally {
    await fresh.stop();
  }
});
