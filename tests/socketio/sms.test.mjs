// Twilio SMS inboxes against a stand-in of Twilio (twilio_standin.mjs): a text in, live in the workspace, stored
// once however often Twilio retries; the reply out through the Messages API; status callbacks moving it to
// delivered, or failed with the carrier's reason; Twilio's refusals on the message; the signature checked on every
// call, including the URL a proxy was given and its default port; and, where the twilio SDK from PyPI is
// installed (CI requires it), requests signed by its RequestValidator accepted and a one-byte change refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer, setupTeam, onlineAgent, request, uid, api, sendFile, downloadFile } from './harness.mjs';
import { PNG } from './multipart.mjs';
import { startTwilio, twilioSignature } from './twilio_standin.mjs';

const sdk = spawnSync('python3', ['-c', 'import twilio'], { stdio: 'ignore' }).status === 0;
const sdkSkip = sdk || process.env.KEFU_REQUIRE_SDKS === '1' ? false : 'the twilio SDK is not installed (pip install twilio); CI runs this';

let server;
let tw;
before(async () => {
  tw = await startTwilio();
  server = await startServer();
});
after(async () => {
  await server?.stop();
  await tw?.stop();
});

async function smsInbox() {
  const setup = await setupTeam(server);
  const created = await api(server, 'POST', '/api/v1/inboxes', {
    token: setup.admin,
    body: { kind: 'twilio_sms', name: uid('sms'), teams: [setup.team.id], settings: { account_sid: tw.accountSid, auth_token: tw.authToken, from_number: tw.from, api_base_url: tw.url } },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { ...setup, inbox: created.body.inbox, hook: `${server.url}${created.body.inbox.webhook_path}` };
}

let n = 0;
const phone = () => `+1415555${String(1000 + (++n) + (process.pid % 5000)).slice(-4)}`;

test('a text in, the reply out through the Messages API, and delivery ticks from the status callbacks', async () => {
  const { admin, agents, inbox, hook } = await smsInbox();
  assert.equal(inbox.kind, 'twilio_sms');
  assert.equal(inbox.webhook_path, `/hooks/twilio_sms/${inbox.id}`);
  assert.equal(JSON.stringify(inbox).includes(tw.authToken), false, 'the auth token is never returned');
  const agent = await onlineAgent(server, agents[0]);
  const customer = phone();
  const first = await tw.text(hook, { from: customer, body: 'Is my table booked for 8pm?' });
  assert.equal(first.status, 200);
  assert.match(first.text, /<Response><\/Response>/);
  const arrived = await agent.next('message:new', (d) => d.message.content === 'Is my table booked for 8pm?');
  const cid = arrived.message.conversation_id;
  // Twilio retries when it got no answer in time: the same MessageSid is stored once.
  assert.equal((await tw.text(hook, { from: customer, body: 'Is my table booked for 8pm?', sid: first.sid })).status, 200);
  const conversation = (await api(server, 'GET', `/api/v1/conversations/${cid}`, { token: admin })).body.conversation;
  const contact = (await api(server, 'GET', `/api/v1/contacts/${conversation.contact_id}`, { token: admin })).body.contact;
  assert.deepEqual([contact.name, contact.phone, contact.external_id], [customer, customer, customer]);
  assert.equal((await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: admin })).body.messages.length, 1);
  assert.equal((await api(server, 'GET', `/api/v1/conversations/${cid}/reply_window`, { token: admin })).body.reply_window, null, 'SMS has no window');

  const sent = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: 'Yes, table 4 at 8pm.' });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  const out = await tw.nextSent((m) => m.to === customer);
  assert.deepEqual([out.from, out.body], [tw.from, 'Yes, table 4 at 8pm.']);
  assert.equal(out.status_callback, `${hook}/status`, 'Twilio reports back to the address it calls');
  const delivered = await agent.next('message:updated', (d) => d.message.id === sent.message.id && d.message.delivery.status === 'delivered');
  assert.equal(delivered.message.delivery.error, null);
  assert.ok(tw.callbacks.every((c) => c.status === 204), JSON.stringify(tw.callbacks));

  // The carrier cannot reach the phone: failed, with the reason.
  const off = '+15005550010';
  await tw.text(hook, { from: off, body: 'call me' });
  const offCid = (await agent.next('message:new', (d) => d.message.content === 'call me')).message.conversation_id;
  const lost = await request(agent, 'message:send', { conversation_id: offCid, client_id: uid('r'), content: 'Calling you now' });
  const failed = await agent.next('message:updated', (d) => d.message.id === lost.message.id && d.message.delivery.status === 'failed');
  assert.match(failed.message.delivery.error, /30003/);
  assert.match(failed.message.delivery.error, /unreachable/);

  // The reports come before Twilio's answer to the send: kept, and applied once the send is recorded.
  const quick = '+15005550011';
  await tw.text(hook, { from: quick, body: 'quick one' });
  const quickCid = (await agent.next('message:new', (d) => d.message.content === 'quick one')).message.conversation_id;
  const early = await request(agent, 'message:send', { conversation_id: quickCid, client_id: uid('r'), content: 'Reported before answered' });
  await agent.next('message:updated', (d) => d.message.id === early.message.id && d.message.delivery.status === 'delivered');
  agent.close();
});

test('Twilio\'s refusals show on the message; a rate limit is tried again', async () => {
  const { agents, hook } = await smsInbox();
  const agent = await onlineAgent(server, agents[0]);
  const reply = async (from, text) => {
    await tw.text(hook, { from, body: `hello from ${from}` });
    const cid = (await agent.next('message:new', (d) => d.message.content === `hello from ${from}`)).message.conversation_id;
    const r = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: text });
    return (await agent.next('message:updated', (d) => d.message.id === r.message.id && ['sent', 'delivered', 'failed'].includes(d.message.delivery.status), 30000)).message;
  };
  const invalid = await reply('+15005550001', 'hi');
  assert.equal(invalid.delivery.status, 'failed');
  assert.match(invalid.delivery.error, /21211/);
  const landline = await reply('+15005550009', 'hi');
  assert.match(landline.delivery.error, /21614/);
  tw.rateLimitNext(1);
  const later = await reply(phone(), 'after a pause');
  assert.notEqual(later.delivery.status, 'failed', 'a 429 is tried again, then sent');
  agent.close();
});

test('the signature is checked on every call: a wrong one is refused and nothing is stored; a proxy\'s URL and its default port are accepted', async () => {
  const { admin, inbox, hook } = await smsInbox();
  const forged = await tw.text(hook, { from: phone(), body: 'forged' }, { signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' });
  assert.equal(forged.status, 401);
  const unsigned = await fetch(hook, { method: 'POST', body: 'From=%2B14155550100&Body=x&MessageSid=SM1' });
  assert.equal(unsigned.status, 401);
  assert.equal((await api(server, 'GET', `/api/v1/conversations?inbox_id=${inbox.id}`, { token: admin })).body.conversations.length, 0);

  // Behind a proxy, Twilio was given https://support.example.com/...; signed with the port written or not.
  const path = new URL(hook).pathname;
  const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'support.example.com' };
  const viaProxy = await tw.text(hook, { from: phone(), body: 'through the proxy' }, { signedUrl: `https://support.example.com${path}`, headers });
  assert.equal(viaProxy.status, 200, viaProxy.text);
  const withPort = await tw.text(hook, { from: phone(), body: 'with the port' }, { signedUrl: `https://support.example.com:443${path}`, headers });
  assert.equal(withPort.status, 200, withPort.text);
  const state = (await api(server, 'GET', `/api/v1/inboxes/${inbox.id}`, { token: admin })).body.inbox.channel_state;
  assert.equal(state.status, 'ok');
  const wrongHost = await tw.text(hook, { from: phone(), body: 'elsewhere' }, { signedUrl: `https://evil.example${path}`, headers });
  assert.equal(wrongHost.status, 401);

  const bad = await tw.text(hook, { from: 'not-a-number', body: 'x' });
  assert.equal(bad.status, 400);
  assert.equal((await fetch(`${server.url}/hooks/twilio_sms/00000000-0000-7000-8000-000000000000`, { method: 'POST' })).status, 404);
});

test('requests signed by the twilio SDK\'s RequestValidator are accepted; a one-byte change is refused', { skip: sdkSkip }, async () => {
  const { hook } = await smsInbox();
  const params = { MessageSid: `SM${uid('x').replace(/[^a-f0-9]/g, '').padEnd(32, '0').slice(0, 32)}`, From: phone(), To: tw.from, Body: '由 twilio SDK 签名', AccountSid: tw.accountSid };
  const script = 'import json,sys\nfrom twilio.request_validator import RequestValidator\na=json.load(sys.stdin)\nprint(RequestValidator(a["token"]).compute_signature(a["url"], a["params"]))';
  const signed = spawnSync('python3', ['-c', script], { input: JSON.stringify({ token: tw.authToken, url: hook, params }), encoding: 'utf8' });
  assert.equal(signed.status, 0, signed.stderr);
  const signature = signed.stdout.trim();
  assert.equal(signature, twilioSignature(tw.authToken, hook, params), 'the stand-in signs as the SDK does');
  const post = (body) => fetch(hook, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body });
  assert.equal((await post(new URLSearchParams(params))).status, 200);
  assert.equal((await post(new URLSearchParams({ ...params, Body: '由 twilio SDK 签名!' }))).status, 401);
});

test('MMS: a picture in is fetched from Twilio with the account\'s credentials and kept; an agent\'s picture goes out by a signed link Twilio fetches', async () => {
  const { admin, agents, hook } = await smsInbox();
  const agent = await onlineAgent(server, agents[0]);
  const from = phone();
  const mediaUrl = tw.addMedia(PNG, 'image/png');
  const texted = await tw.text(hook, { from, body: '', extra: { NumMedia: '1', MediaUrl0: mediaUrl, MediaContentType0: 'image/png' } });
  assert.equal(texted.status, 200, texted.text);
  const arrived = await agent.next('message:new', (d) => d.message.content === '[image]');
  const cid = arrived.message.conversation_id;
  const kept = (await agent.next('message:updated', (d) => d.message.id === arrived.message.id && d.message.attachments?.length === 1)).message.attachments[0];
  assert.equal(kept.content_type, 'image/png');
  assert.ok((await downloadFile(server, admin, kept.id)).data.equals(PNG));

  const sent = await sendFile(server, agents[0].token, cid, { filename: 'label.png', type: 'image/png', data: PNG });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  const out = await tw.nextSent((m) => m.to === from && m.media);
  assert.equal(out.body, '', 'the file is the message');
  assert.ok(out.media.data.equals(PNG), 'Twilio fetched the bytes from Kefu');
  assert.equal(out.media.contentType, 'image/png');
  await agent.next('message:updated', (d) => d.message.id === sent.body.message.id && d.message.delivery.status === 'delivered');

  // The link works for Twilio only as signed: a changed signature or id is refused.
  const link = new URL(out.media_url);
  assert.match(link.pathname, /^\/media\/[0-9a-f-]{36}$/);
  const forged = new URL(link);
  forged.searchParams.set('signature', link.searchParams.get('signature').replace(/^./, (c) => (c === '0' ? '1' : '0')));
  assert.equal((await fetch(forged)).status, 403);
  const later = new URL(link);
  later.searchParams.set('expires', String(Number(link.searchParams.get('expires')) + 3600));
  assert.equal((await fetch(later)).status, 403, 'the expiry is signed too');
  const file = await fetch(link);
  assert.equal(file.status, 200);
  assert.equal(file.headers.get('x-content-type-options'), 'nosniff');
  assert.match(file.headers.get('content-disposition'), /^attachment/);

  // What MMS cannot carry is refused with Twilio's limits, before anything is stored.
  const zip = await sendFile(server, agents[0].token, cid, { filename: 'a.zip', type: 'application/zip', data: Buffer.alloc(100, 1) });
  assert.equal(zip.status, 422);
  assert.match(zip.body.error.message, /5 MB/);
  agent.close();
});
