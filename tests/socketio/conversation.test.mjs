// A visitor and agents talking through the real server: round trips over each transport, idempotent resends,
// sync after a disconnect, permissions, transfer, close and reopen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, setupTeam, connectVisitor, connectAgent, onlineAgent, request, uid, api, startConversation,
} from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

async function roundTrip(transports, upgrade) {
  const { widgetToken, agents } = await setupTeam(server);
  const agent = await onlineAgent(server, agents[0], { transports, upgrade });
  const { socket: visitor, session } = await connectVisitor(server, widgetToken, { transports, upgrade });
  assert.ok(session.visitor_token.length >= 22, 'a visitor token carries at least 128 random bits');
  assert.deepEqual(session.conversations, []);

  const sent = await request(visitor, 'message:send', { client_id: uid('c'), content: '你好，我的订单没到' });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  assert.equal(sent.message.seq, 1);
  assert.deepEqual(Object.keys(sent.message.sender).sort(), ['id', 'kind', 'name']);
  assert.equal(sent.message.sender.kind, 'visitor');
  const conversationId = sent.message.conversation_id;

  const assigned = await agent.next('conversation:assigned', (d) => d.conversation.id === conversationId);
  assert.equal(assigned.conversation.assignee.id, agents[0].id);
  const incoming = await agent.next('message:new', (d) => d.message.conversation_id === conversationId);
  assert.equal(incoming.message.content, '你好，我的订单没到');

  const visitorSeesAssignee = await visitor.next('conversation:updated', (d) => d.conversation.status === 'assigned');
  assert.equal(visitorSeesAssignee.conversation.assignee.name, 'Agent 1');

  const reply = await request(agent, 'message:send', { conversation_id: conversationId, client_id: uid('a'), content: '马上帮您查' });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  assert.equal(reply.message.seq, 2);
  const got = await visitor.next('message:new', (d) => d.message.seq === 2);
  assert.equal(got.message.content, '马上帮您查');
  assert.equal(got.message.sender.kind, 'agent');
  assert.equal(got.message.sender.name, 'Agent 1');
  return { visitor, agent };
}

test('a visitor and an agent talk over long-polling only', async () => {
  const { visitor, agent } = await roundTrip(['polling'], false);
  assert.equal(visitor.io.engine.transport.name, 'polling');
  assert.equal(agent.io.engine.transport.name, 'polling');
  visitor.close(); agent.close();
});

test('a visitor and an agent talk over websocket only', async () => {
  const { visitor, agent } = await roundTrip(['websocket'], false);
  assert.equal(visitor.io.engine.transport.name, 'websocket');
  visitor.close(); agent.close();
});

test('a visitor and an agent talk after upgrading from polling to websocket', async () => {
  const { visitor, agent } = await roundTrip(['polling', 'websocket'], true);
  if (visitor.io.engine.transport.name !== 'websocket') {
    await new Promise((resolve) => visitor.io.engine.once('upgrade', resolve));
  }
  assert.equal(visitor.io.engine.transport.name, 'websocket');
  const again = await request(visitor, 'message:send', { client_id: uid('c'), content: 'after upgrade' });
  assert.equal(again.ok, true);
  await agent.next('message:new', (d) => d.message.content === 'after upgrade');
  visitor.close(); agent.close();
});

test('sending the same client_id twice stores one message and acks the same one', async () => {
  const { widgetToken, agents } = await setupTeam(server);
  const agent = await onlineAgent(server, agents[0]);
  const { socket: visitor } = await connectVisitor(server, widgetToken);
  const clientId = uid('same');
  const first = await request(visitor, 'message:send', { client_id: clientId, content: 'only once' });
  const second = await request(visitor, 'message:send', { client_id: clientId, content: 'only once' });
  assert.equal(first.ok, true);
  assert.deepEqual(second.message, first.message);
  const cid = first.message.conversation_id;
  const agentDup = await request(agent, 'message:send', { conversation_id: cid, client_id: 'dup', content: 'hi' });
  const agentDup2 = await request(agent, 'message:send', { conversation_id: cid, client_id: 'dup', content: 'hi' });
  assert.equal(agentDup2.message.id, agentDup.message.id);
  const synced = await request(visitor, 'sync', { conversation_id: cid, after_seq: 0 });
  assert.deepEqual(synced.messages.map((m) => m.seq), [1, 2]);
  visitor.close(); agent.close();
});

test('a visitor away while the agent sends 20 messages gets exactly those 20, in order, from sync', async () => {
  const { widgetToken, agents } = await setupTeam(server);
  const agent = await onlineAgent(server, agents[0]);
  const first = await connectVisitor(server, widgetToken);
  const opened = await request(first.socket, 'message:send', { client_id: uid('c'), content: 'hello' });
  const cid = opened.message.conversation_id;
  await agent.next('conversation:assigned', (d) => d.conversation.id === cid);
  const lastSeen = opened.message.seq;
  first.socket.close();

  for (let i = 1; i <= 20; i++) {
    const r = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('burst'), content: `reply ${i}` });
    assert.equal(r.ok, true);
  }

  const back = await connectVisitor(server, widgetToken, { visitorToken: first.session.visitor_token });
  assert.equal(back.session.contact_id, first.session.contact_id, 'the visitor token brings the same contact back');
  assert.deepEqual(back.session.conversations.map((c) => c.id), [cid]);
  const synced = await request(back.socket, 'sync', { conversation_id: cid, after_seq: lastSeen });
  assert.equal(synced.ok, true);
  assert.deepEqual(synced.messages.map((m) => m.content), Array.from({ length: 20 }, (_, i) => `reply ${i + 1}`));
  assert.deepEqual(synced.messages.map((m) => m.seq), Array.from({ length: 20 }, (_, i) => lastSeen + 1 + i));
  back.socket.close(); agent.close();
});

test('private notes reach agents but never the visitor', async () => {
  const { agent, visitor, cid } = await startConversation(server, { content: 'hi' });
  const note = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('n'), content: 'VIP customer', private: true });
  assert.equal(note.ok, true);
  assert.equal(note.message.private, true);
  const publicReply = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('p'), content: 'hello!' });
  await visitor.next('message:new', (d) => d.message.id === publicReply.message.id);
  assert.equal(visitor.all('message:new').some((d) => d.message.private), false);
  const visitorSync = await request(visitor, 'sync', { conversation_id: cid, after_seq: 0 });
  assert.deepEqual(visitorSync.messages.map((m) => m.content), ['hi', 'hello!']);
  assert.equal(visitorSync.up_to_seq, 3, 'the visitor may skip the note\'s seq: nothing is missing up to 3');
  const nothingNew = await request(visitor, 'sync', { conversation_id: cid, after_seq: 3 });
  assert.deepEqual([nothingNew.messages, nothingNew.up_to_seq], [[], 3]);
  const agentSync = await request(agent, 'sync', { conversation_id: cid, after_seq: 0 });
  assert.deepEqual(agentSync.messages.map((m) => m.content), ['hi', 'VIP customer', 'hello!']);
  visitor.close(); agent.close();
});

test('bad widget and agent tokens are refused at connect', async () => {
  await assert.rejects(connectVisitor(server, 'no-such-widget'), (e) => /unauthorized/.test(e.message));
  await assert.rejects(connectAgent(server, 'not-a-session'), (e) => /unauthorized/.test(e.message));
});

test('only the assignee, a supervisor or an admin may send; others get forbidden', async () => {
  const { widgetToken, agents, supervisor } = await setupTeam(server, { agents: 2, capacity: 1, supervisor: true });
  const a1 = await onlineAgent(server, agents[0]);
  const { socket: visitor } = await connectVisitor(server, widgetToken);
  const opened = await request(visitor, 'message:send', { client_id: uid('c'), content: 'hi' });
  const cid = opened.message.conversation_id;
  await a1.next('conversation:assigned');
  const { socket: a2 } = await connectAgent(server, agents[1].token);
  const refused = await request(a2, 'message:send', { conversation_id: cid, client_id: uid('x'), content: 'not mine' });
  assert.equal(refused.ok, false);
  assert.equal(refused.error.code, 'forbidden');
  assert.equal(typeof refused.error.message, 'string');
  const { socket: sup } = await connectAgent(server, supervisor.token);
  const bySupervisor = await request(sup, 'message:send', { conversation_id: cid, client_id: uid('s'), content: 'supervisor here' });
  assert.equal(bySupervisor.ok, true);
  await sup.next('message:new', (d) => d.message.id === bySupervisor.message.id);
  const synced = await request(visitor, 'sync', { conversation_id: cid, after_seq: 0 });
  assert.deepEqual(synced.messages.map((m) => m.content), ['hi', 'supervisor here']);
  visitor.close(); a1.close(); a2.close(); sup.close();
});

test('bad payloads get clear error acks and store nothing', async () => {
  const { widgetToken, agents } = await setupTeam(server);
  const agent = await onlineAgent(server, agents[0]);
  const { socket: visitor } = await connectVisitor(server, widgetToken);
  const empty = await request(visitor, 'message:send', { client_id: uid('c'), content: '   ' });
  assert.deepEqual([empty.ok, empty.error.code], [false, 'empty_message']);
  const long = await request(visitor, 'message:send', { client_id: uid('c'), content: 'x'.repeat(10001) });
  assert.deepEqual([long.ok, long.error.code], [false, 'message_too_long']);
  const garbage = await request(visitor, 'message:send', { nope: true });
  assert.deepEqual([garbage.ok, garbage.error.code], [false, 'invalid_payload']);
  const notMine = await request(visitor, 'sync', { conversation_id: '01900000-0000-7000-8000-000000000000', after_seq: 0 });
  assert.deepEqual([notMine.ok, notMine.error.code], [false, 'not_found']);
  const ok = await request(visitor, 'message:send', { client_id: uid('c'), content: 'x'.repeat(10000) });
  assert.equal(ok.ok, true, 'exactly 10,000 characters is allowed');
  assert.equal(ok.message.seq, 1, 'the refused messages left no trace');
  visitor.close(); agent.close();
});

test('typing indicators travel both ways', async () => {
  const { agent, visitor, cid } = await startConversation(server, { content: 'hi' });
  await request(visitor, 'typing', { conversation_id: cid, is_typing: true });
  const seenByAgent = await agent.next('typing', (d) => d.conversation_id === cid);
  assert.deepEqual([seenByAgent.is_typing, seenByAgent.sender.kind], [true, 'visitor']);
  await request(agent, 'typing', { conversation_id: cid, is_typing: true });
  const seenByVisitor = await visitor.next('typing', (d) => d.conversation_id === cid);
  assert.deepEqual([seenByVisitor.is_typing, seenByVisitor.sender.name], [true, 'Agent 1']);
  await request(agent, 'conversation:close', { conversation_id: cid });
  const late = await request(visitor, 'typing', { conversation_id: cid, is_typing: true });
  assert.deepEqual([late.ok, late.error.code], [false, 'conversation_closed']);
  visitor.close(); agent.close();
});

test('transfer to an agent and to a team moves the conversation and tells everyone', async () => {
  const setup = await setupTeam(server, { agents: 2 });
  const [a1, a2] = [await onlineAgent(server, setup.agents[0]), await onlineAgent(server, setup.agents[1])];
  const { socket: visitor } = await connectVisitor(server, setup.widgetToken);
  const opened = await request(visitor, 'message:send', { client_id: uid('c'), content: 'transfer me' });
  const cid = opened.message.conversation_id;
  const first = await visitor.next('conversation:updated', (d) => d.conversation.status === 'assigned');
  const fromIdx = setup.agents.findIndex((a) => a.id === first.conversation.assignee.id);
  const [from, to] = fromIdx === 0 ? [a1, a2] : [a2, a1];
  const target = setup.agents[1 - fromIdx];

  const moved = await request(from, 'conversation:transfer', { conversation_id: cid, to_agent_id: target.id });
  assert.equal(moved.ok, true, JSON.stringify(moved));
  assert.equal(moved.conversation.assignee.id, target.id);
  await to.next('conversation:assigned', (d) => d.conversation.id === cid);
  const seen = await visitor.next('conversation:updated', (d) => d.conversation.assignee?.id === target.id);
  assert.equal(seen.conversation.status, 'assigned');
  const gone = await request(from, 'message:send', { conversation_id: cid, client_id: uid('x'), content: 'still mine?' });
  assert.equal(gone.error.code, 'forbidden', 'the previous assignee may no longer send');

  const both = await request(to, 'conversation:transfer', { conversation_id: cid, to_agent_id: target.id, to_team_id: setup.team.id });
  assert.equal(both.error.code, 'invalid_input');
  const toTeam = await request(to, 'conversation:transfer', { conversation_id: cid, to_team_id: setup.team.id });
  assert.equal(toTeam.ok, true, JSON.stringify(toTeam));
  assert.equal(toTeam.conversation.team_id, setup.team.id);
  assert.equal(toTeam.conversation.status, 'assigned', 'an online team member picked it up at once');
  visitor.close(); a1.close(); a2.close();
});

test('closing frees the agent; reopening brings the conversation back', async () => {
  const { widgetToken, agents } = await setupTeam(server, { capacity: 1 });
  const agent = await onlineAgent(server, agents[0]);
  const v1 = (await connectVisitor(server, widgetToken)).socket;
  const v2 = (await connectVisitor(server, widgetToken)).socket;
  const c1 = (await request(v1, 'message:send', { client_id: uid('c'), content: 'one' })).message.conversation_id;
  await agent.next('conversation:assigned', (d) => d.conversation.id === c1);
  const c2 = (await request(v2, 'message:send', { client_id: uid('c'), content: 'two' })).message.conversation_id;
  const waiting = await v2.next('conversation:updated', (d) => d.conversation.id === c2 && d.conversation.status === 'queued');
  assert.equal(waiting.conversation.queue_position, 1);

  const closed = await request(agent, 'conversation:close', { conversation_id: c1 });
  assert.equal(closed.ok, true);
  assert.equal(closed.conversation.status, 'closed');
  assert.ok(closed.conversation.closed_at);
  await v1.next('conversation:updated', (d) => d.conversation.id === c1 && d.conversation.status === 'closed');
  await agent.next('conversation:assigned', (d) => d.conversation.id === c2);
  const again = await request(agent, 'conversation:close', { conversation_id: c1 });
  assert.equal(again.error.code, 'conversation_closed');
  const late = await request(agent, 'message:send', { conversation_id: c1, client_id: uid('x'), content: 'late' });
  assert.equal(late.error.code, 'conversation_closed');

  assert.equal((await request(agent, 'conversation:close', { conversation_id: c2 })).ok, true);
  const reopened = await request(agent, 'conversation:reopen', { conversation_id: c1 });
  assert.equal(reopened.ok, true, JSON.stringify(reopened));
  assert.equal(reopened.conversation.status, 'assigned');
  assert.equal(reopened.conversation.assignee.id, agents[0].id);
  const twice = await request(agent, 'conversation:reopen', { conversation_id: c1 });
  assert.equal(twice.error.code, 'conversation_open');
  v1.close(); v2.close(); agent.close();
});

test('a visitor writing after the conversation closed opens a new one', async () => {
  const { agents, agent, visitor, cid: c1 } = await startConversation(server, { content: 'first' });
  await request(agent, 'conversation:close', { conversation_id: c1 });
  const next = await request(visitor, 'message:send', { client_id: uid('c'), content: 'one more thing', conversation_id: c1 });
  assert.equal(next.ok, true);
  assert.notEqual(next.message.conversation_id, c1);
  assert.equal(next.message.seq, 1);
  const sticky = await agent.next('conversation:assigned', (d) => d.conversation.id === next.message.conversation_id);
  assert.equal(sticky.conversation.assignee.id, agents[0].id);
  const history = await api(server, 'GET', `/api/v1/conversations?contact_id=${sticky.conversation.contact_id}`, { token: agents[0].token });
  assert.equal(history.body.conversations.length, 2);
  visitor.close(); agent.close();
});

test('messages emitted the moment a socket connects are handled, not dropped', async () => {
  const { widgetToken, agents } = await setupTeam(server, { capacity: 1000 });
  const agent = await onlineAgent(server, agents[0]);
  const { io } = await import('socket.io-client');
  const sockets = [];
  const acks = [];
  // Many sockets, so that a race between the server confirming a connection and registering its handlers shows.
  for (let i = 0; i < 200; i++) {
    const s = io(`${server.url}/visitor`, { auth: { widget_token: widgetToken }, transports: ['websocket'], forceNew: true, reconnection: false });
    sockets.push(s);
    // Emitted before the connection is up: the client sends it right after the namespace accepts it.
    acks.push(s.timeout(10000).emitWithAck('message:send', { client_id: uid('early'), content: `early ${i}` }));
  }
  const results = await Promise.all(acks);
  assert.deepEqual(results.map((r) => r.ok), Array(200).fill(true));
  assert.deepEqual(results.map((r) => r.message.seq), Array(200).fill(1));
  for (const s of sockets) s.close();
  agent.close();
});

test('a visitor writing to a closed conversation while another is open continues the open one', async () => {
  const { agents, agent, visitor, cid: c1 } = await startConversation(server, { content: 'first' });
  await request(agent, 'conversation:close', { conversation_id: c1 });
  const c2 = (await request(visitor, 'message:send', { client_id: uid('c'), content: 'second' })).message.conversation_id;
  assert.notEqual(c2, c1);
  const third = await request(visitor, 'message:send', { client_id: uid('c'), content: 'third', conversation_id: c1 });
  assert.equal(third.message.conversation_id, c2, 'no second open conversation');
  assert.equal(third.message.seq, 2);
  visitor.close(); agent.close();
});

test('a packet larger than the payload limit closes that connection and stores nothing; others carry on', async () => {
  const { widgetToken, agents } = await setupTeam(server);
  const agent = await onlineAgent(server, agents[0]);
  for (const transports of [['websocket'], ['polling']]) {
    const { socket: visitor } = await connectVisitor(server, widgetToken, { transports, upgrade: false });
    const closed = new Promise((resolve) => visitor.once('disconnect', resolve));
    visitor.emit('message:send', { client_id: uid('huge'), content: 'x'.repeat(200 * 1024) });
    const reason = await closed;
    assert.match(reason, /transport (close|error)/, `${transports}: ${reason}`);
  }
  const { socket: fine } = await connectVisitor(server, widgetToken);
  const ok = await request(fine, 'message:send', { client_id: uid('c'), content: 'still here' });
  assert.equal(ok.ok, true);
  assert.equal(ok.message.seq, 1, 'the oversized messages left nothing behind');
  fine.close(); agent.close();
});

test('a visitor rates a closed conversation of theirs, 1 to 5, and agents see it', async () => {
  const { agent, visitor, cid, supervisor } = await startConversation(server, { team: { supervisor: true } });
  const early = await request(visitor, 'conversation:rate', { conversation_id: cid, score: 5 });
  assert.deepEqual([early.ok, early.error.code], [false, 'conversation_open']);
  await request(agent, 'conversation:close', { conversation_id: cid });
  for (const score of [0, 6]) {
    const bad = await request(visitor, 'conversation:rate', { conversation_id: cid, score });
    assert.deepEqual([bad.ok, bad.error.code], [false, 'invalid_input']);
  }
  const { socket: sup } = await connectAgent(server, supervisor.token);
  const rated = await request(visitor, 'conversation:rate', { conversation_id: cid, score: 4, comment: '  quick  ' });
  assert.equal(rated.ok, true, JSON.stringify(rated));
  assert.deepEqual([rated.conversation.rating.score, rated.conversation.rating.comment], [4, 'quick']);
  const seen = await sup.next('conversation:updated', (d) => d.conversation.id === cid && d.conversation.rating);
  assert.equal(seen.conversation.rating.score, 4);
  const { socket: stranger } = await connectVisitor(server, (await setupTeam(server)).widgetToken);
  const notTheirs = await request(stranger, 'conversation:rate', { conversation_id: cid, score: 1 });
  assert.deepEqual([notTheirs.ok, notTheirs.error.code], [false, 'not_found']);
  visitor.close(); agent.close(); sup.close(); stranger.close();
});

test('visitor:identify checks what the pre-chat form may hold', async () => {
  const { widgetToken, inbox, admin } = await setupTeam(server);
  const pre_chat = { enabled: true, fields: [{ key: 'email', required: true }, { key: 'city', label: { 'zh-CN': '城市', en: 'City' } }] };
  await api(server, 'PATCH', `/api/v1/inboxes/${inbox.id}`, { token: admin, body: { settings: { widget: { pre_chat } } } });
  const { socket: visitor } = await connectVisitor(server, widgetToken);
  const missing = await request(visitor, 'visitor:identify', { name: 'Han Meimei' });
  assert.deepEqual([missing.ok, missing.error.code], [false, 'invalid_input']);
  const badEmail = await request(visitor, 'visitor:identify', { email: 'not-mail' });
  assert.equal(badEmail.error.code, 'invalid_input');
  const unknown = await request(visitor, 'visitor:identify', { email: 'a@b.cn', fields: { shoe_size: '42' } });
  assert.equal(unknown.error.code, 'invalid_input');
  const ok = await request(visitor, 'visitor:identify', { name: ' Han Meimei ', email: 'Han@B.cn', phone: '+86 10 1234', fields: { city: '北京' } });
  assert.equal(ok.ok, true, JSON.stringify(ok));
  assert.deepEqual([ok.contact.name, ok.contact.email, ok.contact.phone, ok.contact.attributes.fields.city], ['Han Meimei', 'han@b.cn', '+86 10 1234', '北京']);
  visitor.close();
});

test('read positions move forward only and reach the other side', async () => {
  const { agent, visitor, cid, agents } = await startConversation(server, { team: { agents: 2 } });
  await request(agent, 'message:send', { conversation_id: cid, client_id: uid('a'), content: 'one' });
  await request(agent, 'message:send', { conversation_id: cid, client_id: uid('a'), content: 'two' });
  const read = await request(agent, 'conversation:read', { conversation_id: cid, seq: 1 });
  assert.deepEqual([read.ok, read.seq], [true, 1]);
  const seenByVisitor = await visitor.next('conversation:read', (d) => d.conversation_id === cid);
  assert.deepEqual([seenByVisitor.reader, seenByVisitor.seq], ['agent', 1]);
  const back = await request(agent, 'conversation:read', { conversation_id: cid, seq: 0 });
  assert.equal(back.seq, 1, 'a read position never goes back');
  const capped = await request(visitor, 'conversation:read', { conversation_id: cid, seq: 99 });
  assert.equal(capped.seq, 3, 'capped at the last message');
  const seenByAgent = await agent.next('conversation:read', (d) => d.conversation_id === cid && d.reader === 'visitor');
  assert.equal(seenByAgent.seq, 3);
  const { socket: other } = await connectAgent(server, agents[1].token);
  const forbidden = await request(other, 'conversation:read', { conversation_id: cid, seq: 3 });
  assert.equal(forbidden.error.code, 'forbidden');
  visitor.close(); agent.close(); other.close();
});
