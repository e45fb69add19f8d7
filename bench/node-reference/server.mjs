// The benchmark's reference server: the visitor/agent protocol Kefu speaks, relayed in memory by npm's socket.io
// 4.8 on Node, so every figure of a Kefu run has a ratio beside it. It keeps nothing on disk and checks nothing:
// what it costs is the floor a Socket.IO relay pays. It answers the setup calls the load generator makes (login,
// team, inbox, agents) with made-up ids, routes each new conversation to the least-loaded online agent, acks
// `message:send` with the message, and pushes `message:new` to the visitor's and the agent's rooms as Kefu does.
//   node server.mjs --listen 127.0.0.1:18300
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Server } from 'socket.io';

const listen = (process.argv[process.argv.indexOf('--listen') + 1] ?? '127.0.0.1:18300').split(':');
const widgetToken = randomUUID();
const agents = new Map(); // token -> { id, name, online, load }
const conversations = new Map(); // id -> { contactId, agentId, seq }

function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const http = createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
  const path = req.url.split('?')[0];
  if (req.method === 'POST' && path === '/api/v1/auth/login') {
    const known = [...agents.entries()].find(([, a]) => a.email === body.email);
    return json(res, 200, { token: known ? known[0] : randomUUID() });
  }
  if (req.method === 'POST' && path === '/api/v1/teams') return json(res, 201, { team: { id: randomUUID(), name: body.name } });
  if (req.method === 'POST' && path === '/api/v1/inboxes') return json(res, 201, { inbox: { id: randomUUID(), widget_token: widgetToken } });
  if (req.method === 'POST' && path === '/api/v1/users') {
    const user = { id: randomUUID(), email: body.email, name: body.name, online: false, load: 0 };
    agents.set(randomUUID(), user);
    return json(res, 201, { user: { id: user.id, email: user.email, name: user.name } });
  }
  if (req.method === 'PUT' && path.startsWith('/api/v1/teams/')) return json(res, 200, {});
  return json(res, 404, { error: { code: 'not_found', message: path } });
});

const io = new Server(http, { transports: ['websocket', 'polling'], maxHttpBufferSize: 64 * 1024 });

function message(conversationId, sender, content, clientId) {
  const c = conversations.get(conversationId);
  c.seq += 1;
  return {
    id: randomUUID(), conversation_id: conversationId, seq: c.seq, sender, content, private: false,
    client_id: clientId, created_at: new Date().toISOString(),
  };
}

function deliver(msg) {
  const c = conversations.get(msg.conversation_id);
  io.of('/visitor').to(`contact:${c.contactId}`).emit('message:new', { message: msg });
  if (c.agentId) io.of('/agent').to(`agent:${c.agentId}`).emit('message:new', { message: msg });
}

io.of('/visitor').use((socket, next) => (socket.handshake.auth?.widget_token === widgetToken ? next() : next(new Error('unauthorized'))));
io.of('/visitor').on('connection', (socket) => {
  const contactId = randomUUID();
  socket.join(`contact:${contactId}`);
  socket.emit('session', { contact_id: contactId, visitor_token: randomUUID(), conversations: [] });
  socket.on('message:send', (req, ack) => {
    if (typeof ack !== 'function') return;
    let cid = req?.conversation_id;
    if (!cid) {
      cid = randomUUID();
      const online = [...agents.values()].filter((a) => a.online).sort((x, y) => x.load - y.load)[0];
      if (online) online.load += 1;
      conversations.set(cid, { contactId, agentId: online?.id, seq: 0 });
    }
    if (!conversations.has(cid)) return ack({ ok: false, error: { code: 'not_found', message: 'conversation' } });
    const msg = message(cid, { kind: 'visitor', id: contactId, name: 'Visitor' }, String(req.content ?? ''), req.client_id);
    ack({ ok: true, message: msg });
    deliver(msg);
  });
});

io.of('/agent').use((socket, next) => {
  const agent = agents.get(socket.handshake.auth?.token);
  if (!agent) return next(new Error('unauthorized'));
  socket.data.agent = agent;
  next();
});
io.of('/agent').on('connection', (socket) => {
  const agent = socket.data.agent;
  socket.join(`agent:${agent.id}`);
  socket.emit('session', { user: { id: agent.id, name: agent.name } });
  socket.on('status:set', (req, ack) => {
    agent.online = req?.status === 'online';
    if (typeof ack === 'function') ack({ ok: true, status: req?.status });
  });
  socket.on('message:send', (req, ack) => {
    if (typeof ack !== 'function') return;
    if (!conversations.has(req?.conversation_id)) return ack({ ok: false, error: { code: 'not_found', message: 'conversation' } });
    const msg = message(req.conversation_id, { kind: 'agent', id: agent.id, name: agent.name }, String(req.content ?? ''), req.client_id);
    ack({ ok: true, message: msg });
    deliver(msg);
  });
});

http.listen(Number(listen[1]), listen[0], () => {
  console.log(`Reference listening on http://${listen[0]}:${http.address().port}`);
});
