// The visitor widget in a real browser (Debian's Chromium through playwright-core), against the real binary in
// demo mode: the demo page embeds the widget like a customer's site would; the agent answers through the
// official socket.io-client. Screenshots of the main screens go to e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ARTIFACTS, launch } from './browser.mjs';
import { startServer, connectAgent, connectVisitor, request, login, uid, api, ADMIN } from '../tests/socketio/harness.mjs';


let server;
let browser;
let agent;

before(async () => {
  server = await startServer({ args: ['--demo'] });
  browser = await launch();
  // Every test opens a conversation with the demo agent: give them room for all of them.
  const admin = await login(server, ADMIN.email, ADMIN.password);
  const demoAgent = (await api(server, 'GET', '/api/v1/users', { token: admin })).body.users.find((u) => u.email === 'agent@demo.kefu');
  await api(server, 'PATCH', `/api/v1/users/${demoAgent.id}`, { token: admin, body: { capacity: 50 } });
  const token = await login(server, 'agent@demo.kefu', 'kefu-demo');
  ({ socket: agent } = await connectAgent(server, token));
  const online = await request(agent, 'status:set', { status: 'online' });
  assert.equal(online.ok, true);
});

after(async () => {
  agent?.close();
  await browser?.close();
  await server?.stop();
});

async function visitorPage({ query = '', locale = 'en-US' } = {}) {
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(`${server.url}/${query}`);
  await page.locator('[data-kefu] >> button').click();
  const chat = page.frameLocator('iframe[title="Kefu chat"]');
  await chat.locator('textarea').waitFor();
  return { context, page, chat, sockets };
}

async function say(chat, text) {
  await chat.locator('textarea').fill(text);
  await chat.locator('textarea').press('Enter');
}

async function agentReceives(content) {
  const { message } = await agent.next('message:new', (d) => d.message.content === content, 15000);
  return message;
}

async function reply(conversationId, content) {
  const ack = await request(agent, 'message:send', { conversation_id: conversationId, client_id: uid('r'), content });
  assert.equal(ack.ok, true, JSON.stringify(ack));
}

test('a visitor chats from the demo page and sees the agent\'s reply', async () => {
  const { context, page, chat } = await visitorPage();
  await say(chat, 'Hello from the browser');
  const incoming = await agentReceives('Hello from the browser');
  await reply(incoming.conversation_id, 'Hi! How can I help?');
  await chat.getByText('Hi! How can I help?').waitFor();
  await chat.getByText('Demo Agent 演示客服 is helping you').waitFor();
  await page.screenshot({ path: `${ARTIFACTS}/widget-chat.png` });

  // A reload keeps the conversation: the visitor token and history come back from localStorage and sync.
  await page.reload();
  await page.locator('[data-kefu] >> button').click();
  await chat.getByText('Hello from the browser').waitFor();
  await chat.getByText('Hi! How can I help?').waitFor();
  assert.equal(await chat.locator('.msg .body', { hasText: 'Hi! How can I help?' }).count(), 1, 'shown once');
  await context.close();
});

test('script and HTML in messages render as text', async () => {
  const { context, chat } = await visitorPage();
  await say(chat, 'xss check');
  const incoming = await agentReceives('xss check');
  const attack = '<img src=x onerror="window.pwned=1"><b>bold</b>';
  await reply(incoming.conversation_id, attack);
  await chat.getByText(attack).waitFor();
  assert.equal(await chat.locator('.messages img, .messages b').count(), 0);
  await context.close();
});

test('the widget works with long-polling only', async () => {
  const { context, chat, sockets } = await visitorPage({ query: '?transports=polling' });
  await say(chat, 'polling only please');
  const incoming = await agentReceives('polling only please');
  await reply(incoming.conversation_id, 'Polling works');
  await chat.getByText('Polling works').waitFor();
  assert.deepEqual(sockets, [], 'no WebSocket was opened');
  await context.close();
});

test('the widget speaks Chinese to a zh-CN browser', async () => {
  const { context, page, chat } = await visitorPage({ locale: 'zh-CN' });
  await chat.getByText('在线客服').waitFor();
  await chat.getByText('您好！有什么可以帮您？').waitFor();
  assert.equal(await chat.locator('textarea').getAttribute('placeholder'), '输入消息，按 Enter 发送');
  await page.screenshot({ path: `${ARTIFACTS}/widget-zh-CN.png` });
  await context.close();
});

test('the inbox\'s widget settings set its colour, side and greeting', async () => {
  const admin = await login(server, ADMIN.email, ADMIN.password);
  const inboxes = await api(server, 'GET', '/api/v1/inboxes', { token: admin });
  const website = inboxes.body.inboxes.find((i) => i.name === 'Website');
  const widget = { color: '#00a870', position: 'left', greeting: { en: 'Welcome to ACME support!', 'zh-CN': '欢迎来到 ACME！' } };
  const saved = await api(server, 'PATCH', `/api/v1/inboxes/${website.id}`, { token: admin, body: { settings: { widget } } });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  try {
    const { context, page, chat } = await visitorPage();
    await chat.getByText('Welcome to ACME support!').waitFor();
    const bubble = page.locator('[data-kefu] >> button');
    assert.equal(await bubble.evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(0, 168, 112)');
    const box = await bubble.boundingBox();
    assert.ok(box.x < 100, `the bubble sits on the left (x = ${box.x})`);
    assert.equal(await chat.locator('header').evaluate((h) => getComputedStyle(h).backgroundColor), 'rgb(0, 168, 112)');
    await page.screenshot({ path: `${ARTIFACTS}/widget-settings.png` });
    await context.close();
  } finally {
    await api(server, 'PATCH', `/api/v1/inboxes/${website.id}`, { token: admin, body: { settings: {} } });
  }
});

test('after the agent closes, the visitor rates the conversation', async () => {
  const { context, page, chat } = await visitorPage();
  await say(chat, 'rate me');
  const incoming = await agentReceives('rate me');
  await reply(incoming.conversation_id, 'Done, anything else?');
  await chat.getByText('Done, anything else?').waitFor();
  const closed = await request(agent, 'conversation:close', { conversation_id: incoming.conversation_id });
  assert.equal(closed.ok, true);
  await chat.getByText('How did we do?').waitFor();
  await chat.getByRole('button', { name: '5 stars' }).click();
  await chat.locator('.survey textarea').fill('很快，谢谢 <b>fast</b>');
  await chat.getByRole('button', { name: 'Send rating' }).click();
  await chat.getByText('Thank you for your feedback!').waitFor();
  await page.screenshot({ path: `${ARTIFACTS}/widget-rating.png` });
  const admin = await login(server, ADMIN.email, ADMIN.password);
  const stored = await api(server, 'GET', `/api/v1/conversations/${incoming.conversation_id}`, { token: admin });
  assert.equal(stored.body.conversation.rating.score, 5);
  assert.equal(stored.body.conversation.rating.comment, '很快，谢谢 <b>fast</b>');
  await context.close();
});

test('the pre-chat form asks for contact details first, and the agent sees who and where the visitor is', async () => {
  const admin = await login(server, ADMIN.email, ADMIN.password);
  const website = (await api(server, 'GET', '/api/v1/inboxes', { token: admin })).body.inboxes.find((i) => i.name === 'Website');
  const pre_chat = { enabled: true, fields: [
    { key: 'name', required: true },
    { key: 'email', required: true },
    { key: 'order_no', label: { 'zh-CN': '订单号', en: 'Order number' } },
  ] };
  const saved = await api(server, 'PATCH', `/api/v1/inboxes/${website.id}`, { token: admin, body: { settings: { widget: { pre_chat } } } });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  try {
    const { context, page, chat } = await (async () => {
      const context = await browser.newContext({ locale: 'en-US' });
      const page = await context.newPage();
      await page.goto(`${server.url}/`);
      await page.locator('[data-kefu] >> button').click();
      return { context, page, chat: page.frameLocator('iframe[title="Kefu chat"]') };
    })();
    await chat.getByText('Before we start, please tell us how to reach you').waitFor();
    assert.equal(await chat.locator('textarea').count(), 0, 'no composer before the form is filled in');
    await chat.getByLabel('Name *').fill('李雷');
    await chat.getByLabel('Email *').fill('li.lei@example.com');
    await chat.getByLabel('Order number').fill('A-1001');
    await page.screenshot({ path: `${ARTIFACTS}/widget-pre-chat.png` });
    await chat.getByRole('button', { name: 'Start chat' }).click();
    await chat.locator('textarea').waitFor();
    await say(chat, 'where is my order?');
    const incoming = await agentReceives('where is my order?');
    assert.equal(incoming.sender.name, '李雷');
    const conversation = (await api(server, 'GET', `/api/v1/conversations/${incoming.conversation_id}`, { token: admin })).body.conversation;
    const contact = (await api(server, 'GET', `/api/v1/contacts/${conversation.contact_id}`, { token: admin })).body.contact;
    assert.equal(contact.email, 'li.lei@example.com');
    assert.equal(contact.attributes.fields.order_no, 'A-1001');
    assert.equal(contact.attributes.page.url, `${server.url}/`);
    assert.match(contact.attributes.browser, /Chrome/);
    await context.close();
  } finally {
    await api(server, 'PATCH', `/api/v1/inboxes/${website.id}`, { token: admin, body: { settings: {} } });
  }
});

test('outside working hours the widget takes a message with an email to answer on', async () => {
  const admin = await login(server, ADMIN.email, ADMIN.password);
  const website = (await api(server, 'GET', '/api/v1/inboxes', { token: admin })).body.inboxes.find((i) => i.name === 'Website');
  const closedAllWeek = { enabled: true, timezone: 'Asia/Shanghai', mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] };
  const saved = await api(server, 'PATCH', `/api/v1/inboxes/${website.id}`, { token: admin, body: { settings: { widget: { working_hours: closedAllWeek } } } });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  try {
    const context = await browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.locator('[data-kefu] >> button').click();
    const chat = page.frameLocator('iframe[title="Kefu chat"]');
    await chat.getByText('现在是非工作时间').waitFor();
    assert.equal(await chat.locator('textarea[placeholder]').count(), 0, 'no live chat composer');
    await chat.getByRole('button', { name: '提交留言' }).click();
    await chat.locator('textarea[name="message"]').fill('明天上午请回电');
    await chat.getByRole('button', { name: '提交留言' }).click();
    await chat.getByText('请至少填写邮箱或电话').waitFor();
    await chat.getByLabel('邮箱').fill('wang@example.cn');
    await chat.getByRole('button', { name: '提交留言' }).click();
    await chat.getByText('已收到您的留言').waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/widget-offline.png` });
    const incoming = await agentReceives('明天上午请回电');
    const conversation = (await api(server, 'GET', `/api/v1/conversations/${incoming.conversation_id}`, { token: admin })).body.conversation;
    const contact = (await api(server, 'GET', `/api/v1/contacts/${conversation.contact_id}`, { token: admin })).body.contact;
    assert.equal(contact.email, 'wang@example.cn');
    await context.close();
  } finally {
    await api(server, 'PATCH', `/api/v1/inboxes/${website.id}`, { token: admin, body: { settings: {} } });
  }
});

test('read ticks, and an unread badge and blinking title while the chat is closed', async () => {
  const { context, page, chat } = await visitorPage();
  await say(chat, 'tick tock');
  const incoming = await agentReceives('tick tock');
  await chat.getByText('✓ Sent').waitFor();
  const read = await request(agent, 'conversation:read', { conversation_id: incoming.conversation_id, seq: incoming.seq });
  assert.equal(read.ok, true);
  await chat.getByText('✓✓ Read').waitFor();
  const title = await page.title();
  await page.locator('[data-kefu] >> button').click();
  await reply(incoming.conversation_id, 'psst, still there?');
  await page.locator('[data-kefu] >> .badge', { hasText: '1' }).waitFor();
  await page.waitForFunction((t) => document.title === `(1) ${t}`, title);
  await page.screenshot({ path: `${ARTIFACTS}/widget-unread.png` });
  await page.locator('[data-kefu] >> button').click();
  await chat.getByText('psst, still there?').waitFor();
  await page.waitForFunction((t) => document.title === t, title);
  assert.equal(await page.locator('[data-kefu] >> .badge').isVisible(), false);
  await context.close();
});

test('Kefu.setUser signs the visitor in on every device; a wrong hash is ignored with a warning', async () => {
  const admin = await login(server, ADMIN.email, ADMIN.password);
  const website = (await api(server, 'GET', '/api/v1/inboxes', { token: admin })).body.inboxes.find((i) => i.name === 'Website');
  const id = uid('shop-user');
  const hash = createHmac('sha256', website.identity_secret).update(id).digest('hex');
  const user = { id, name: 'Zhang Wei 张伟', email: 'zhang.wei@example.com', hash };

  // Signed in before the chat opens: the loader hands the identity to the chat when it creates it.
  const laptop = await browser.newContext({ locale: 'en-US' });
  const first = await laptop.newPage();
  await first.goto(`${server.url}/`);
  await first.evaluate((u) => window.Kefu.setUser(u), user);
  await first.locator('[data-kefu] >> button').click();
  const chat = first.frameLocator('iframe[title="Kefu chat"]');
  await say(chat, 'signed in on the laptop');
  const incoming = await agentReceives('signed in on the laptop');
  assert.equal(incoming.sender.name, 'Zhang Wei 张伟');
  const contact = (await api(server, 'GET', `/api/v1/contacts/${incoming.sender.id}`, { token: admin })).body.contact;
  assert.equal(contact.external_id, id);
  assert.equal(contact.email, 'zhang.wei@example.com');

  // Another device, signing in after the chat opened: the chat switches to the person and shows their history.
  const phone = await browser.newContext({ locale: 'en-US' });
  const second = await phone.newPage();
  await second.goto(`${server.url}/`);
  await second.locator('[data-kefu] >> button').click();
  const phoneChat = second.frameLocator('iframe[title="Kefu chat"]');
  await phoneChat.locator('textarea').waitFor();
  await second.evaluate((u) => window.Kefu.setUser(u), user);
  await phoneChat.getByText('signed in on the laptop').waitFor();
  await reply(incoming.conversation_id, 'Hello Zhang Wei');
  await phoneChat.getByText('Hello Zhang Wei').waitFor();
  await chat.getByText('Hello Zhang Wei').waitFor();

  // A forged hash: ignored, said so on the console, and the visitor stays anonymous.
  const other = await browser.newContext({ locale: 'en-US' });
  const third = await other.newPage();
  const warned = new Promise((resolve) => third.on('console', (m) => {
    if (m.type() === 'warning' && m.text().includes('Kefu.setUser was ignored')) resolve(m.text());
  }));
  await third.goto(`${server.url}/`);
  await third.evaluate((u) => window.Kefu.setUser({ ...u, hash: 'ab'.repeat(32) }), user);
  await third.locator('[data-kefu] >> button').click();
  const thirdChat = third.frameLocator('iframe[title="Kefu chat"]');
  await thirdChat.locator('textarea').waitFor();
  const warning = await Promise.race([warned, new Promise((_, reject) => setTimeout(() => reject(new Error('no warning')), 15000))]);
  assert.match(warning, /Kefu\.setUser was ignored: hash is not HMAC-SHA256/);
  assert.equal(await thirdChat.getByText('signed in on the laptop').count(), 0, 'nothing of the person leaks');
  await laptop.close();
  await phone.close();
  await other.close();
});

test('a queued visitor sees their place in line and the expected wait', async () => {
  // A server of its own, with one agent of capacity 1, so that a queue forms and moves.
  const own = await startServer({ args: ['--demo'] });
  try {
    const ownAdmin = await login(own, ADMIN.email, ADMIN.password);
    const demo = (await api(own, 'GET', '/api/v1/users', { token: ownAdmin })).body.users.find((u) => u.email === 'agent@demo.kefu');
    await api(own, 'PATCH', `/api/v1/users/${demo.id}`, { token: ownAdmin, body: { capacity: 1 } });
    const { socket: desk } = await connectAgent(own, await login(own, 'agent@demo.kefu', 'kefu-demo'));
    await request(desk, 'status:set', { status: 'online' });
    const site = (await api(own, 'GET', '/api/v1/inboxes', { token: ownAdmin })).body.inboxes.find((i) => i.name === 'Website');
    const visitors = [];
    for (const text of ['first in line', 'second in line']) {
      const v = await connectVisitor(own, site.widget_token);
      const sent = await request(v.socket, 'message:send', { client_id: uid('c'), content: text });
      visitors.push({ socket: v.socket, cid: sent.message.conversation_id });
    }
    await desk.next('conversation:assigned', (d) => d.conversation.id === visitors[0].cid);

    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${own.url}/`);
    await page.locator('[data-kefu] >> button').click();
    const chat = page.frameLocator('iframe[title="Kefu chat"]');
    await say(chat, 'third in line');
    await chat.getByText('Connecting you to an agent: 1 ahead of you').waitFor();
    // The one in front must have waited over a second to tell the queue's pace.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await request(desk, 'conversation:close', { conversation_id: visitors[0].cid });
    await chat.getByText('Connecting you to an agent: you are next, about 1 min to wait').waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/widget-queue.png` });
    await context.close();
    for (const v of visitors) v.socket.close();
    desk.close();
  } finally {
    await own.stop();
  }
});

test('a widget the server refused while its database was locked connects by itself once it is free', {
  skip: process.env.KEFU_TEST_DATABASE_URL ? 'SQLite only: it locks the database file' : false,
}, async () => {
  // A server of its own: its database is held by another process, as a backup tool or a stuck writer would.
  const own = await startServer({ args: ['--demo'] });
  const { socket: desk } = await connectAgent(own, await login(own, 'agent@demo.kefu', 'kefu-demo'));
  await request(desk, 'status:set', { status: 'online' });
  const locker = spawn('python3', ['-c', [
    'import sqlite3, sys',
    'db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)',
    "db.execute('BEGIN EXCLUSIVE')",
    "print('locked', flush=True)",
    'sys.stdin.read()',
    "db.execute('ROLLBACK')",
  ].join('\n'), join(own.dataDir, 'kefu.db')], { stdio: ['pipe', 'pipe', 'inherit'] });
  let context;
  try {
    await new Promise((resolve, reject) => {
      locker.stdout.on('data', (d) => String(d).includes('locked') && resolve());
      locker.on('exit', (code) => reject(new Error(`the locker exited with ${code}`)));
    });
    context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${own.url}/`);
    await page.locator('[data-kefu] >> button').click();
    const chat = page.frameLocator('iframe[title="Kefu chat"]');
    // A new visitor is a new contact, a write: refused once SQLite's busy timeout runs out.
    await chat.getByText('Connection lost, reconnecting…').waitFor({ timeout: 60000 });
    locker.stdin.end();
    await chat.getByText('Connection lost, reconnecting…').waitFor({ state: 'hidden', timeout: 60000 });
    await say(chat, 'after the lock');
    // Acked, so stored: the pending bubble turns into a sent one, and the agent has it.
    await chat.locator('.msg:not(.pending) .body', { hasText: 'after the lock' }).waitFor();
    await desk.next('message:new', (d) => d.message.content === 'after the lock', 15000);
  } finally {
    locker.stdin.end();
    await context?.close();
    desk.close();
    await own.stop();
  }
});

test('the widget rides out a server restart: a banner while away, then nothing lost or doubled', async (t) => {
  const { context, page, chat } = await visitorPage();
  // What the widget and the server said, shown if this fails: a lost push is otherwise invisible.
  const said = [];
  page.on('console', (m) => said.push(`[widget ${m.type()}] ${m.text()}`));
  page.on('websocket', (ws) => {
    said.push(`[websocket] ${ws.url()}`);
    ws.on('close', () => said.push('[websocket closed]'));
    ws.on('framereceived', (f) => said.push(`[ws in] ${String(f.payload).slice(0, 200)}`));
  });
  t.after(() => {
    if (!t.passed) console.log(`${said.join('\n')}\n[server]\n${server.output.slice(-4000)}`);
  });
  await say(chat, 'before the restart');
  const incoming = await agentReceives('before the restart');
  await server.kill9();
  await chat.getByText('Connection lost, reconnecting…').waitFor();
  // Written while the server is down: kept pending, sent once the connection is back.
  await say(chat, 'written during the outage');
  await server.restart();
  await chat.getByText('Connection lost, reconnecting…').waitFor({ state: 'hidden', timeout: 20000 });
  agent.close();
  ({ socket: agent } = await connectAgent(server, await login(server, 'agent@demo.kefu', 'kefu-demo')));
  await request(agent, 'status:set', { status: 'online' });
  await reply(incoming.conversation_id, 'back again');
  await chat.getByText('back again').waitFor();
  const admin = await login(server, ADMIN.email, ADMIN.password);
  const stored = (await api(server, 'GET', `/api/v1/conversations/${incoming.conversation_id}/messages`, { token: admin })).body.messages;
  assert.deepEqual(stored.map((m) => m.content), ['before the restart', 'written during the outage', 'back again']);
  for (const text of ['before the restart', 'written during the outage', 'back again']) {
    assert.equal(await chat.locator('.msg .body', { hasText: text }).count(), 1, `${text} shown once`);
  }
  await page.screenshot({ path: `${ARTIFACTS}/widget-after-restart.png` });
  await context.close();
});
