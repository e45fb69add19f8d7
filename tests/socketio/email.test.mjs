// Email inboxes against a real IMAP server (a private dovecot started by the test): a mail becomes a
// conversation of the inbox's team, live in the workspace; replies thread back by Message-ID, by the ticket tag
// in a changed subject; Chinese charsets read right; auto-replies and bounces never open conversations; a
// restart neither doubles nor skips a mail; wrong credentials show as the inbox's error state; IDLE and polling.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, setupTeam, onlineAgent, request, uid, api, sendFile } from './harness.mjs';
import { startMailServer, mailServerAvailable } from './mailserver.mjs';
import { startSmtpSink, smtpSinkAvailable } from './smtpsink.mjs';

// Skipped, with the reason, on a machine without dovecot; CI requires it (see mailserver.mjs).
const available = mailServerAvailable() && (smtpSinkAvailable() || process.env.KEFU_REQUIRE_MAILSERVER === '1');
const skip = available ? false : 'dovecot or aiosmtpd is not installed (apt-get install dovecot-imapd; pip install aiosmtpd); CI runs these';
const test = (name, fn) => nodeTest(name, { skip }, fn);

let server;
let mail;
let polling;
let sink;
before(async () => {
  if (skip) return;
  mail = await startMailServer({ users: [
    { user: 'support@kefu.test', password: 'imap-pass-1' },
    { user: 'help@kefu.test', password: 'imap-pass-2' },
    { user: 'sales@kefu.test', password: 'imap-pass-3' },
    { user: 'desk@kefu.test', password: 'imap-pass-5' },
    { user: 'outbound@kefu.test', password: 'imap-pass-6' },
    { user: 'bounce@kefu.test', password: 'imap-pass-7' },
    { user: 'files@kefu.test', password: 'imap-pass-8' },
    { user: 'rich@kefu.test', password: 'imap-pass-9' },
    { user: 'tickets@kefu.test', password: 'imap-pass-10' },
  ] });
  polling = await startMailServer({ idle: false, users: [{ user: 'slow@kefu.test', password: 'imap-pass-4' }] });
  sink = await startSmtpSink();
  server = await startServer();
});
after(async () => {
  await server?.stop();
  await mail?.stop();
  await polling?.stop();
  await sink?.stop();
});

function settings(srv, user, password, extra = {}) {
  return {
    imap: { host: srv.host, port: srv.imapPort, tls: 'none', user, password, folder: 'INBOX' },
    smtp: { host: sink.host, port: sink.port, tls: 'none', from_address: user, from_name: 'Support 客服' },
    ...extra,
  };
}

async function emailInbox(srv, user, password, extra) {
  const setup = await setupTeam(server);
  const created = await api(server, 'POST', '/api/v1/inboxes', {
    token: setup.admin, body: { kind: 'email', name: uid('mail'), teams: [setup.team.id], settings: settings(srv, user, password, extra) },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { ...setup, inbox: created.body.inbox };
}

let seq = 0;
function message({ from = 'Li Lei <li.lei@example.com>', to = 'support@kefu.test', subject = 'Hello', id, headers = '', body = 'Hi there', charset = 'utf-8' } = {}) {
  seq += 1;
  const messageId = id ?? `<m${seq}.${Date.now()}@example.com>`;
  const head = `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: ${messageId}\r\nDate: ${new Date().toUTCString()}\r\n${headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=${charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`;
  return { raw: Buffer.concat([Buffer.from(head), Buffer.isBuffer(body) ? body : Buffer.from(body)]), messageId };
}

const state = async (admin, id) => (await api(server, 'GET', `/api/v1/inboxes/${id}`, { token: admin })).body.inbox;

async function waitState(admin, id, status, ms = 20000) {
  const end = Date.now() + ms;
  let inbox;
  while (Date.now() < end) {
    inbox = await state(admin, id);
    if (inbox.channel_state?.status === status) return inbox;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`inbox never reached ${status}: ${JSON.stringify(inbox?.channel_state)}`);
}

test('a mail becomes a conversation of the inbox\'s team, live, and replies thread back', async () => {
  const { admin, agents, inbox } = await emailInbox(mail, 'support@kefu.test', 'imap-pass-1');
  assert.equal(inbox.kind, 'email');
  assert.equal(inbox.widget_token, null);
  assert.equal(JSON.stringify(inbox).includes('imap-pass-1'), false, 'the password is never returned');
  assert.equal(inbox.settings.imap.password, undefined);
  const agent = await onlineAgent(server, agents[0]);
  const ok = await waitState(admin, inbox.id, 'ok');
  assert.match(ok.channel_state.message, /IDLE/);

  const first = message({ subject: 'Order A-1001 is late', body: 'Where is my parcel?\r\n' });
  await mail.deliver('support@kefu.test', first.raw);
  const arrived = await agent.next('message:new', (d) => d.message.content === 'Where is my parcel?', 20000);
  const cid = arrived.message.conversation_id;
  assert.equal(arrived.message.sender.kind, 'visitor');
  assert.equal(arrived.message.sender.name, 'Li Lei');
  const conversation = (await api(server, 'GET', `/api/v1/conversations/${cid}`, { token: admin })).body.conversation;
  assert.equal(conversation.inbox_id, inbox.id);
  assert.equal(conversation.assignee.id, agents[0].id, 'routed to the inbox\'s team');
  const contact = (await api(server, 'GET', `/api/v1/contacts/${conversation.contact_id}`, { token: admin })).body.contact;
  assert.equal(contact.email, 'li.lei@example.com');

  // A reply with another subject, answering the first mail, quoting it: same conversation, quote trimmed.
  const reply = message({
    subject: 'still nothing?!', headers: `In-Reply-To: ${first.messageId}\r\nReferences: ${first.messageId}\r\n`,
    body: 'Any news?\r\n\r\nOn Mon, Li Lei wrote:\r\n> Where is my parcel?\r\n',
  });
  await mail.deliver('support@kefu.test', reply.raw);
  const threaded = await agent.next('message:new', (d) => d.message.content === 'Any news?', 20000);
  assert.equal(threaded.message.conversation_id, cid);

  // A ticket tag in the subject finds the thread even without any reference.
  const ticket = (await api(server, 'POST', `/api/v1/conversations/${cid}/ticket`, { token: admin, body: {} })).body.ticket;
  await mail.deliver('support@kefu.test', message({ subject: `Re: [#${ticket.number}] whatever`, body: 'By ticket number' }).raw);
  const tagged = await agent.next('message:new', (d) => d.message.content === 'By ticket number', 20000);
  assert.equal(tagged.message.conversation_id, cid);

  // Chinese in GBK, and an HTML-only mail, read right.
  const gbk = Buffer.from([0xc4, 0xe3, 0xba, 0xc3, 0xa3, 0xac, 0xce, 0xd2, 0xb5, 0xc4, 0xb6, 0xa9, 0xb5, 0xa5]);
  await mail.deliver('support@kefu.test', message({ from: '王芳 <wang@example.cn>', subject: '=?GBK?B?tqm1pQ==?=', charset: 'GBK', body: gbk }).raw);
  const chinese = await agent.next('message:new', (d) => d.message.content === '你好，我的订单', 20000);
  assert.notEqual(chinese.message.conversation_id, cid, 'another sender, another conversation');
  agent.close();
});

test('auto-replies and bounces are recorded but open nothing', async () => {
  const { admin, agents, inbox } = await emailInbox(mail, 'help@kefu.test', 'imap-pass-2');
  const agent = await onlineAgent(server, agents[0]);
  await waitState(admin, inbox.id, 'ok');
  await mail.deliver('help@kefu.test', message({ to: 'help@kefu.test', subject: 'Out of office', headers: 'Auto-Submitted: auto-replied\r\n', body: 'I am away' }).raw);
  await mail.deliver('help@kefu.test', message({ to: 'help@kefu.test', from: 'MAILER-DAEMON@example.com', subject: 'Undelivered Mail Returned to Sender', body: 'bounce' }).raw);
  await mail.deliver('help@kefu.test', message({ to: 'help@kefu.test', subject: 'A real question', body: 'Real question' }).raw);
  // Mail is taken in in order: once the real one is here, the two before it were looked at and dropped.
  const real = await agent.next('message:new', (d) => d.message.content === 'Real question', 20000);
  const all = (await api(server, 'GET', `/api/v1/conversations?inbox_id=${inbox.id}`, { token: admin })).body.conversations;
  assert.deepEqual(all.map((c) => c.id), [real.message.conversation_id]);
  assert.equal(agent.all('message:new').some((d) => ['I am away', 'bounce'].includes(d.message.content)), false);
  agent.close();
});

test('a restart neither doubles nor skips a mail', async () => {
  const { admin, agents, inbox } = await emailInbox(mail, 'sales@kefu.test', 'imap-pass-3');
  const agent = await onlineAgent(server, agents[0]);
  await waitState(admin, inbox.id, 'ok');
  const sender = `${uid('buyer')}@example.com`;
  // One thread: every later mail answers the first.
  const opening = message({ to: 'sales@kefu.test', from: sender, body: 'before 1' });
  const inThread = (body) => message({ to: 'sales@kefu.test', from: sender, body, headers: `In-Reply-To: ${opening.messageId}\r\n` }).raw;
  await mail.deliver('sales@kefu.test', opening.raw);
  for (const n of [2, 3]) await mail.deliver('sales@kefu.test', inThread(`before ${n}`));
  await agent.next('message:new', (d) => d.message.content === 'before 3', 20000);
  agent.close();
  await server.kill9();
  // Mail that arrives while Kefu is down is fetched when it is back.
  for (const n of [4, 5]) await mail.deliver('sales@kefu.test', inThread(`during ${n}`));
  await server.restart();
  // The fetcher may take the mail in before any agent reconnects: read the record, not the pushes.
  const stored = async () => {
    const convs = (await api(server, 'GET', `/api/v1/conversations?inbox_id=${inbox.id}`, { token: admin })).body.conversations;
    const messages = convs.length
      ? (await api(server, 'GET', `/api/v1/conversations/${convs[0].id}/messages`, { token: admin })).body.messages
      : [];
    return { convs, contents: messages.map((m) => m.content) };
  };
  let now = await stored();
  for (let i = 0; i < 300 && !now.contents.includes('during 5'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    now = await stored();
  }
  assert.equal(now.convs.length, 1);
  assert.deepEqual(now.contents, ['before 1', 'before 2', 'before 3', 'during 4', 'during 5']);
});

test('wrong credentials put the inbox in an error state until they are fixed; the rest of Kefu goes on', async () => {
  const { admin, agents, inbox } = await emailInbox(polling, 'slow@kefu.test', 'not-the-password', { poll_interval_secs: 5 });
  const failed = await waitState(admin, inbox.id, 'error');
  assert.match(failed.channel_state.message, /login/i);
  assert.equal((await api(server, 'GET', '/healthz')).status, 200);

  // The admin types the right password; the rest of the settings stay.
  const fixed = await api(server, 'PATCH', `/api/v1/inboxes/${inbox.id}`, {
    token: admin, body: { settings: settings(polling, 'slow@kefu.test', 'imap-pass-4', { poll_interval_secs: 5 }) },
  });
  assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
  const ok = await waitState(admin, inbox.id, 'ok', 30000);
  assert.match(ok.channel_state.message, /polling/, 'this server has no IDLE');
  const agent = await onlineAgent(server, agents[0]);
  await polling.deliver('slow@kefu.test', message({ to: 'slow@kefu.test', body: 'Found by polling' }).raw);
  await agent.next('message:new', (d) => d.message.content === 'Found by polling', 20000);

  // An edit without the password keeps the stored one.
  const renamed = await api(server, 'PATCH', `/api/v1/inboxes/${inbox.id}`, {
    token: admin, body: { settings: settings(polling, 'slow@kefu.test', undefined, { poll_interval_secs: 6 }) },
  });
  assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
  const bad = await api(server, 'POST', '/api/v1/inboxes', {
    token: admin, body: { kind: 'email', name: 'no password', settings: settings(polling, 'slow@kefu.test', undefined) },
  });
  assert.equal(bad.status, 422);
  assert.match(bad.body.error.message, /imap.password/);
  agent.close();
});

test('an agent\'s reply goes out by SMTP with threading headers, and the answer to it threads back', async () => {
  const { admin, agents, inbox } = await emailInbox(mail, 'outbound@kefu.test', 'imap-pass-6');
  const agent = await onlineAgent(server, agents[0]);
  await waitState(admin, inbox.id, 'ok');
  const customer = `${uid('zhang')}@example.com`;
  const first = message({ from: `Zhang Wei <${customer}>`, to: 'outbound@kefu.test', subject: 'Broken kettle', body: 'It leaks.' });
  await mail.deliver('outbound@kefu.test', first.raw);
  const arrived = await agent.next('message:new', (d) => d.message.content === 'It leaks.', 20000);
  const cid = arrived.message.conversation_id;
  const ticket = (await api(server, 'POST', `/api/v1/conversations/${cid}/ticket`, { token: admin, body: {} })).body.ticket;

  const sent = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: 'Sorry! A new one is on its way.' });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  assert.deepEqual(sent.message.delivery, { status: 'pending', error: null });
  const note = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('n'), content: 'internal only', private: true });
  assert.equal(note.message.delivery, undefined, 'a private note is never mailed');

  const out = await sink.next((m) => m.rcpt_tos.includes(customer));
  assert.equal(out.headers.subject, `Re: Broken kettle [#${ticket.number}]`);
  assert.equal(out.headers['in-reply-to'], first.messageId);
  assert.ok(out.headers.references.includes(first.messageId));
  assert.match(out.headers['reply-to'], new RegExp(`outbound\\+c${cid.replaceAll('-', '')}@kefu\\.test`));
  assert.match(out.headers['message-id'], new RegExp(`<${sent.message.id}@kefu\\.test>`));
  assert.match(out.text, /Sorry! A new one is on its way\./);
  assert.equal(sink.mails().some((m) => m.text.includes('internal only')), false);
  const updated = await agent.next('message:updated', (d) => d.message.id === sent.message.id && d.message.delivery.status === 'sent');
  assert.equal(updated.message.delivery.error, null);

  // An agent's file goes out as an attachment of a mail in the same thread.
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n%'), Buffer.from([0xe2, 0xe3, 0xcf, 0xd3, 0x00, 0xff]), Buffer.from('\n')]);
  const file = await sendFile(server, agents[0].token, cid, { filename: 'label.pdf', type: 'application/pdf', data: pdf });
  assert.equal(file.status, 201, JSON.stringify(file.body));
  const withFile = await sink.next((m) => m.rcpt_tos.includes(customer) && m.raw.includes('label.pdf'));
  assert.match(withFile.headers['content-type'], /^multipart\/mixed/);
  assert.match(withFile.raw, /Content-Disposition: attachment; filename="label\.pdf"/);
  assert.ok(withFile.raw.includes(pdf.toString('base64')), 'the bytes, in base64');
  assert.equal(withFile.headers['in-reply-to'], out.headers['message-id'], 'it answers the last mail of the thread');
  assert.ok(withFile.headers.references.includes(first.messageId));

  // The customer answers Kefu's mail with another subject: it threads back by In-Reply-To.
  const answer = message({ from: customer, to: 'outbound@kefu.test', subject: 'thanks', headers: `In-Reply-To: ${out.headers['message-id']}\r\n`, body: 'Got it, thanks' });
  await mail.deliver('outbound@kefu.test', answer.raw);
  const back = await agent.next('message:new', (d) => d.message.content === 'Got it, thanks', 20000);
  assert.equal(back.message.conversation_id, cid);
  agent.close();
});

test('a refused reply shows as failed with the server\'s reason; a busy server is tried again', async () => {
  const { admin, agents, inbox } = await emailInbox(mail, 'bounce@kefu.test', 'imap-pass-7');
  const agent = await onlineAgent(server, agents[0]);
  await waitState(admin, inbox.id, 'ok');
  const conversationOf = async (from, body) => {
    await mail.deliver('bounce@kefu.test', message({ from, to: 'bounce@kefu.test', body }).raw);
    return (await agent.next('message:new', (d) => d.message.content === body, 20000)).message.conversation_id;
  };
  const gone = await conversationOf(`reject-${uid('x')}@example.com`, 'please answer me');
  const refused = await request(agent, 'message:send', { conversation_id: gone, client_id: uid('r'), content: 'Hello?' });
  const failed = await agent.next('message:updated', (d) => d.message.id === refused.message.id && d.message.delivery.status === 'failed');
  assert.match(failed.message.delivery.error, /550/);
  assert.match(failed.message.delivery.error, /User unknown/);
  const stored = (await api(server, 'GET', `/api/v1/conversations/${gone}/messages`, { token: admin })).body.messages.at(-1);
  assert.equal(stored.delivery.status, 'failed', 'the failure is kept on the message');

  const busy = `later-${uid('y')}@example.com`;
  const waiting = await conversationOf(busy, 'are you busy?');
  const retried = await request(agent, 'message:send', { conversation_id: waiting, client_id: uid('r'), content: 'Not too busy for you' });
  // Two 451s, then accepted: 5 s and 10 s of backoff.
  const delivered = await agent.next('message:updated', (d) => d.message.id === retried.message.id && d.message.delivery.status === 'sent', 40000);
  assert.equal(delivered.message.delivery.error, null);
  assert.equal(sink.mails().filter((m) => m.rcpt_tos.includes(busy)).length, 1, 'delivered once');
  agent.close();
});

test('an inbox that makes tickets: a number mailed in the requester\'s language, replies by mail, solved and reopened', async () => {
  const { admin, agents, inbox } = await emailInbox(mail, 'desk@kefu.test', 'imap-pass-5', { tickets: true });
  await api(server, 'PUT', '/api/v1/sla_policies', { token: admin, body: { policies: [{ priority: 'normal', next_response_mins: 60 }] } });
  const agent = await onlineAgent(server, agents[0]);
  await waitState(admin, inbox.id, 'ok');
  const customer = `${uid('chen')}@example.cn`;
  const first = message({ from: `陈静 <${customer}>`, to: 'desk@kefu.test', subject: '发票抬头错了', body: '请帮我改一下发票抬头。' });
  await mail.deliver('desk@kefu.test', first.raw);
  const arrived = await agent.next('message:new', (d) => d.message.content === '请帮我改一下发票抬头。', 20000);
  const cid = arrived.message.conversation_id;
  // The ticket is announced to its team (the inbox's), the agent among them.
  const { ticket } = await agent.next('ticket:updated', (d) => d.ticket.conversation_id === cid, 20000);
  const found = (await api(server, 'GET', `/api/v1/tickets?q=${encodeURIComponent('发票抬头')}`, { token: admin })).body.tickets;
  assert.ok(found.some((t) => t.id === ticket.id), 'the new thread is a ticket, found by its Chinese subject');
  assert.equal(ticket.requester.email, customer);
  assert.equal(ticket.subject, '发票抬头错了');
  const history = (await api(server, 'GET', `/api/v1/tickets/${ticket.id}`, { token: admin })).body.events;
  assert.equal(history[0].actor.kind, 'contact');

  // The requester is told the number, in Chinese, threaded under their mail.
  const opened = await sink.next((m) => m.rcpt_tos.includes(customer) && m.text.includes(`工单号为 #${ticket.number}`));
  assert.equal(opened.headers['in-reply-to'], first.messageId);
  assert.ok(opened.headers.subject.includes(`[#${ticket.number}]`));

  // A public comment on the ticket reaches the requester by mail; an internal note does not.
  await api(server, 'POST', `/api/v1/tickets/${ticket.id}/comments`, { token: admin, body: { content: 'Internal: check the order', private: true } });
  await api(server, 'POST', `/api/v1/tickets/${ticket.id}/comments`, { token: admin, body: { content: 'Changed, see the new invoice.' } });
  await sink.next((m) => m.rcpt_tos.includes(customer) && m.text.includes('Changed, see the new invoice.'));
  assert.equal(sink.mails().some((m) => m.text.includes('Internal: check the order')), false);

  // Solved: the requester is told; their answer opens the ticket again and owes them a next response.
  await api(server, 'PATCH', `/api/v1/tickets/${ticket.id}`, { token: admin, body: { status: 'solved' } });
  const solved = await sink.next((m) => m.rcpt_tos.includes(customer) && m.text.includes('已解决'));
  // They answer the notice as a mail client does: to its Reply-To (tagged with the conversation), in reply to it.
  const replyTo = solved.headers['reply-to'].match(/<([^>]+)>/)[1];
  assert.match(replyTo, /^desk\+c[0-9a-f]{32}@kefu\.test$/);
  agent.seen.length = 0;
  const answer = message({ from: customer, to: replyTo, subject: 'Re: 还是不对', headers: `In-Reply-To: ${solved.headers['message-id']}\r\n`, body: '抬头还是不对' });
  await mail.deliver('desk@kefu.test', answer.raw);
  await agent.next('message:new', (d) => d.message.content === '抬头还是不对', 20000);
  await agent.next('ticket:updated', (d) => d.ticket.id === ticket.id && d.ticket.status === 'open', 20000);
  const reopened = (await api(server, 'GET', `/api/v1/tickets/${ticket.id}`, { token: admin })).body;
  assert.equal(reopened.ticket.status, 'open');
  assert.ok(reopened.ticket.sla.next_response_due, 'a next response is owed');
  const change = reopened.events.filter((e) => e.field === 'status').at(-1);
  assert.deepEqual([change.actor.kind, change.old, change.new], ['contact', 'solved', 'open']);

  // A closed ticket is final: a mail about it opens a new ticket.
  await api(server, 'PATCH', `/api/v1/tickets/${ticket.id}`, { token: admin, body: { status: 'closed' } });
  await mail.deliver('desk@kefu.test', message({ from: customer, to: 'desk@kefu.test', subject: `Re: [#${ticket.number}] again`, body: '又出问题了' }).raw);
  const again = await agent.next('message:new', (d) => d.message.content === '又出问题了', 20000);
  assert.notEqual(again.message.conversation_id, cid);
  const newer = await agent.next('ticket:updated', (d) => d.ticket.conversation_id === again.message.conversation_id, 20000);
  assert.ok(newer.ticket.number > ticket.number);
  await api(server, 'PUT', '/api/v1/sla_policies', { token: admin, body: { policies: [] } });
  agent.close();
});

test('attached files are kept with the message, listed on it, and downloaded by those who may read it', async () => {
  const { admin, agents, inbox } = await emailInbox(mail, 'files@kefu.test', 'imap-pass-8');
  const agent = await onlineAgent(server, agents[0]);
  await waitState(admin, inbox.id, 'ok');
  const pdf = Buffer.from('%PDF-1.4\n% an invoice\n');
  const raw = Buffer.from([
    `From: Li Lei <li.lei@example.com>`, 'To: files@kefu.test', 'Subject: invoice attached', `Message-ID: <${uid('att')}@example.com>`,
    'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain; charset=utf-8', '',
    'Here is the invoice.', '--b1', 'Content-Type: application/pdf; name="=?UTF-8?B?5Y+R56WoLnBkZg==?="',
    'Content-Disposition: attachment; filename="=?UTF-8?B?5Y+R56WoLnBkZg==?="', 'Content-Transfer-Encoding: base64', '',
    pdf.toString('base64'), '--b1--', '',
  ].join('\r\n'));
  await mail.deliver('files@kefu.test', raw);
  const updated = await agent.next('message:updated', (d) => d.message.content === 'Here is the invoice.' && d.message.attachments?.length === 1, 20000);
  const [file] = updated.message.attachments;
  assert.deepEqual([file.filename, file.content_type, file.size], ['发票.pdf', 'application/pdf', pdf.length]);
  const stored = (await api(server, 'GET', `/api/v1/conversations/${updated.message.conversation_id}/messages`, { token: admin })).body.messages[0];
  assert.deepEqual(stored.attachments, updated.message.attachments, 'listed on the stored message too');

  const res = await fetch(`${server.url}/api/v1/attachments/${file.id}`, { headers: { authorization: `Bearer ${agents[0].token}` } });
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), pdf);
  assert.equal(res.headers.get('content-type'), 'application/pdf');
  assert.equal(res.headers.get('content-disposition'), "attachment; filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf");
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');

  const stranger = (await setupTeam(server)).agents[0];
  assert.equal((await fetch(`${server.url}/api/v1/attachments/${file.id}`, { headers: { authorization: `Bearer ${stranger.token}` } })).status, 403);
  assert.equal((await fetch(`${server.url}/api/v1/attachments/${file.id}`)).status, 401);
  assert.equal((await api(server, 'GET', '/api/v1/attachments/00000000-0000-7000-8000-000000000000', { token: admin })).status, 404);
  agent.close();
});

test('a formatted mail shows its subject and text; its HTML, sanitised and sandboxed, and its source on request', async () => {
  const { admin, agents, inbox } = await emailInbox(mail, 'rich@kefu.test', 'imap-pass-9');
  const agent = await onlineAgent(server, agents[0]);
  await waitState(admin, inbox.id, 'ok');
  const messageId = `<${uid('html')}@example.com>`;
  const raw = Buffer.from([
    'From: Li Lei <li.lei@example.com>', 'To: rich@kefu.test', 'Subject: =?UTF-8?B?5Y+R6LSn5bu26L+f?= (order 7)', `Message-ID: ${messageId}`,
    'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="alt"', '', '--alt', 'Content-Type: text/plain; charset=utf-8', '',
    'My order is late.', '--alt', 'Content-Type: text/html; charset=utf-8', '',
    '<p>My order is <b>late</b>.<script>alert(1)</script><img src="http://tracker.example/p.gif" onerror="alert(2)"></p>',
    '--alt--', '',
  ].join('\r\n'));
  await mail.deliver('rich@kefu.test', raw);
  const shown = await agent.next('message:updated', (d) => d.message.content === 'My order is late.' && d.message.email, 20000);
  assert.deepEqual(shown.message.email, { subject: '发货延迟 (order 7)', html: true }, 'the subject shows with the text');
  const mid = shown.message.id;
  const cid = shown.message.conversation_id;
  const stored = (await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: admin })).body.messages[0];
  assert.deepEqual(stored.email, shown.message.email, 'and is kept on the message');

  const auth = { authorization: `Bearer ${agents[0].token}` };
  const page = await fetch(`${server.url}/api/v1/messages/${mid}/html`, { headers: auth });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  const policy = page.headers.get('content-security-policy');
  assert.match(policy, /default-src 'none'/);
  assert.match(policy, /(^|; )sandbox/);
  const html = await page.text();
  assert.match(html, /My order is <b>late<\/b>/);
  assert.equal(/script|onerror|alert/.test(html), false, html);

  const source = await fetch(`${server.url}/api/v1/messages/${mid}/source`, { headers: auth });
  assert.equal(source.status, 200);
  assert.equal(source.headers.get('content-type'), 'message/rfc822');
  assert.match(source.headers.get('content-disposition'), /^attachment; filename\*=UTF-8''.+\.eml$/);
  const original = await source.text();
  assert.ok(original.includes(messageId) && original.includes('<script>alert(1)</script>'), 'exactly as it came');

  const stranger = (await setupTeam(server)).agents[0];
  const as = (token) => ({ headers: { authorization: `Bearer ${token}` } });
  assert.equal((await fetch(`${server.url}/api/v1/messages/${mid}/html`, as(stranger.token))).status, 403);
  assert.equal((await fetch(`${server.url}/api/v1/messages/${mid}/source`)).status, 401);

  // A plain mail has no HTML version; the agent's reply shows the subject it went out with.
  const sent = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: 'It ships today.' });
  const noHtml = await api(server, 'GET', `/api/v1/messages/${sent.message.id}/html`, { token: admin });
  assert.equal(noHtml.status, 404);
  assert.equal(noHtml.body.error.code, 'not_found');
  const out = await agent.next('message:updated', (d) => d.message.id === sent.message.id && d.message.delivery.status === 'sent');
  assert.deepEqual(out.message.email, { subject: 'Re: 发货延迟 (order 7)', html: false });
  agent.close();
});

test('a ticket opened by an agent, the API or the web form mails its requester, and their answers thread into it', async () => {
  // An installation of its own: which email inbox mails for tickets depends on the organisation's inboxes.
  const own = await startServer();
  try {
    const setup = await setupTeam(own);
    const { admin } = setup;
    const made = await api(own, 'POST', '/api/v1/inboxes', {
      token: admin, body: { kind: 'email', name: 'Tickets', teams: [setup.team.id], settings: { ...settings(mail, 'tickets@kefu.test', 'imap-pass-10'), tickets: true } },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const inbox = made.body.inbox;
    const end = Date.now() + 20000;
    while ((await api(own, 'GET', `/api/v1/inboxes/${inbox.id}`, { token: admin })).body.inbox.channel_state?.status !== 'ok') {
      assert.ok(Date.now() < end, 'the inbox connects');
      await new Promise((r) => setTimeout(r, 200));
    }
    const agent = await onlineAgent(own, setup.agents[0]);

    // Opened through the API for someone who phoned: they get the number, in a thread Kefu starts.
    const customer = `${uid('sun')}@example.com`;
    const created = await api(own, 'POST', '/api/v1/tickets', {
      token: admin, body: { subject: 'Refund for order 88', description: 'Called to ask for a refund.', team_id: setup.team.id, requester: { name: 'Sun Li', email: customer } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const ticket = created.body.ticket;
    assert.ok(ticket.conversation_id, 'the ticket has a mail thread');
    const opened = await sink.next((m) => m.rcpt_tos.includes(customer) && m.text.includes(`ticket #${ticket.number}`));
    assert.equal(opened.headers.subject, `Refund for order 88 [#${ticket.number}]`, 'a new thread, not a reply');
    assert.equal(opened.headers['in-reply-to'], undefined);
    assert.match(opened.headers['reply-to'], /tickets\+c[0-9a-f]{32}@kefu\.test/);

    // A public comment is mailed in the same thread.
    await api(own, 'POST', `/api/v1/tickets/${ticket.id}/comments`, { token: admin, body: { content: 'The refund is on its way.' } });
    const comment = await sink.next((m) => m.rcpt_tos.includes(customer) && m.text.includes('The refund is on its way.'));
    assert.equal(comment.headers.subject, `Re: Refund for order 88 [#${ticket.number}]`);
    assert.equal(comment.headers['in-reply-to'], opened.headers['message-id']);

    // Solved, then the requester answers the notice: it threads into the ticket and opens it again.
    await api(own, 'PATCH', `/api/v1/tickets/${ticket.id}`, { token: admin, body: { status: 'solved' } });
    const solved = await sink.next((m) => m.rcpt_tos.includes(customer) && m.text.includes('has been solved'));
    const answer = message({ from: `Sun Li <${customer}>`, to: 'tickets@kefu.test', subject: 'not yet', headers: `In-Reply-To: ${solved.headers['message-id']}\r\n`, body: 'Nothing arrived yet.' });
    await mail.deliver('tickets@kefu.test', answer.raw);
    const back = await agent.next('message:new', (d) => d.message.content === 'Nothing arrived yet.', 20000);
    assert.equal(back.message.conversation_id, ticket.conversation_id);
    await agent.next('ticket:updated', (d) => d.ticket.id === ticket.id && d.ticket.status === 'open', 20000);

    // The web form: the requester hears from the email inbox too, in the language they wrote in.
    await api(own, 'PATCH', `/api/v1/inboxes/${setup.inbox.id}`, { token: admin, body: { settings: { ticket_form: { enabled: true } } } });
    const visitor = `${uid('he')}@example.cn`;
    const form = await api(own, 'POST', `/api/v1/forms/${setup.widgetToken}`, {
      body: { name: '何静', email: visitor, subject: '无法登录', message: '登录时提示密码错误。' },
    });
    assert.equal(form.status, 201, JSON.stringify(form.body));
    const formMail = await sink.next((m) => m.rcpt_tos.includes(visitor));
    assert.match(formMail.text, new RegExp(`工单号为 #${form.body.number}`));
    assert.equal(formMail.headers.subject, `无法登录 [#${form.body.number}]`);

    // A requester without an email address is not mailed, and nothing fails.
    const phoned = await api(own, 'POST', '/api/v1/tickets', { token: admin, body: { subject: 'Call back', requester: { name: 'Wu', phone: '+8613800000000' } } });
    assert.equal(phoned.status, 201);
    assert.equal(phoned.body.ticket.conversation_id, null);
    agent.close();
  } finally {
    await own.stop();
  }
});
