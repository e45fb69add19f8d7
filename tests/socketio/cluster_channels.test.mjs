// Channels on two Kefu nodes (issue #6): work a provider allows once is done by one node at a time. Each mailbox is
// fetched by one node, and another takes it over when that one stops; WeCom callbacks landing on both nodes pull
// each page once; WeChat's access token, which WeChat invalidates whenever a new one is fetched, is fetched once
// and shared. Needs KEFU_TEST_DATABASE_URL and
// KEFU_TEST_REDIS_URL (CI requires them), and dovecot for the mailbox (CI installs it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startCluster, setupTeam, onlineAgent, connectAgent, request, uid, api } from './harness.mjs';
import { startMailServer, mailServerAvailable } from './mailserver.mjs';
import { startWechat } from './wechat_standin.mjs';
import { startWecom } from './wecom_standin.mjs';

const configured = Boolean(process.env.KEFU_TEST_DATABASE_URL && process.env.KEFU_TEST_REDIS_URL);
const required = process.env.KEFU_REQUIRE_CLUSTER === '1';
const skip = configured || required ? false : 'set KEFU_TEST_DATABASE_URL and KEFU_TEST_REDIS_URL to run the cluster tests (CI does)';
const env = { KEFU_NODE_TTL_SECS: '2' };
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

function mail(subject) {
  const head = `From: Li Lei <li.lei@example.com>\r\nTo: support@kefu.test\r\nSubject: ${subject}\r\nMessage-ID: <${uid('m')}@example.com>\r\nDate: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`;
  return `${head}${subject}, please\r\n`;
}

test('one node fetches a mailbox; another takes it over when that node stops', { skip: skip || (!mailServerAvailable() && !required && 'dovecot is not installed') }, async () => {
  const imap = await startMailServer({ users: [{ user: 'support@kefu.test', password: 'imap-pass-1' }] });
  const cluster = await startCluster(1, { env });
  try {
    const [a] = cluster.nodes;
    const setup = await setupTeam(a);
    const created = await api(a, 'POST', '/api/v1/inboxes', {
      token: setup.admin,
      body: {
        kind: 'email', name: uid('mail'), teams: [setup.team.id],
        settings: {
          imap: { host: imap.host, port: imap.imapPort, tls: 'none', user: 'support@kefu.test', password: 'imap-pass-1', folder: 'INBOX' },
          smtp: { host: '127.0.0.1', port: 2525, tls: 'none', from_address: 'support@kefu.test' },
        },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // Node A, alone, takes the mailbox; B starts once A has fetched from it.
    const first = await onlineAgent(a, setup.agents[0]);
    await imap.deliver('support@kefu.test', mail('First question'));
    await first.next('message:new', (d) => d.message.content.includes('First question'), 20000);
    const b = await cluster.add();
    const { socket: agent } = await connectAgent(b, setup.agents[0].token);
    const logins = () => (readFileSync(imap.logFile, 'utf8').match(/Login: user=<support@kefu\.test>/g) ?? []).length;
    // Both nodes look for mailboxes to fetch every 3 seconds: after two of their rounds, still one session.
    await pause(7000);
    assert.equal(logins(), 1, `one node holds the mailbox: ${imap.log()}`);

    first.close();
    const exit = await a.sigterm();
    assert.equal(exit.code, 0);
    await imap.deliver('support@kefu.test', mail('Second question'));
    await agent.next('message:new', (d) => d.message.content.includes('Second question'), 20000);
    // Dovecot's log process writes a moment later.
    for (let i = 0; i < 50 && logins() < 2; i += 1) await pause(100);
    assert.equal(logins(), 2, `the other node took the mailbox over: ${imap.log()}`);
    agent.close();
  } finally {
    await cluster.stop();
    await imap.stop();
  }
});

test('two nodes share one WeChat access token: a node that starts later uses the token the first one fetched', { skip }, async () => {
  const wx = await startWechat();
  const cluster = await startCluster(1, { env });
  try {
    const [a] = cluster.nodes;
    const setup = await setupTeam(a);
    const token = `tok${uid('t').replace(/[^a-z0-9]/gi, '').slice(-12)}`;
    const created = await api(a, 'POST', '/api/v1/inboxes', {
      token: setup.admin,
      body: { kind: 'wechat', name: uid('wx'), teams: [setup.team.id], settings: { app_id: wx.appId, app_secret: wx.appSecret, token, api_base_url: wx.url } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const inbox = created.body.inbox;
    const agent = await onlineAgent(a, setup.agents[0]);
    const user = `o${uid('user').replace(/[^a-zA-Z0-9]/g, '')}`;
    const pushed = await wx.push(`${a.url}${inbox.webhook_path}`, { token }, { from: user, content: '在吗？' });
    assert.equal(pushed.status, 200);
    const asked = await agent.next('message:new', (d) => d.message.content === '在吗？');
    const cid = asked.message.conversation_id;
    const first = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: '在的' });
    assert.equal(first.ok, true, JSON.stringify(first));
    await agent.next('message:updated', (d) => d.message.id === first.message.id && d.message.delivery.status === 'sent', 20000);
    assert.equal(wx.stats.tokenFetches, 1);

    // Node A goes; B, started after, sends the next reply with the token A fetched.
    const b = await cluster.add();
    agent.close();
    await a.kill9();
    const { socket: again } = await connectAgent(b, setup.agents[0].token);
    const second = await request(again, 'message:send', { conversation_id: cid, client_id: uid('r'), content: '请讲' });
    assert.equal(second.ok, true, JSON.stringify(second));
    await again.next('message:updated', (d) => d.message.id === second.message.id && d.message.delivery.status === 'sent', 20000);
    assert.equal(wx.stats.tokenFetches, 1, 'one token for the account, fetched once');
    assert.deepEqual(wx.sent.map((s) => s.text?.content), ['在的', '请讲']);
    again.close();
  } finally {
    await cluster.stop();
    await wx.stop();
  }
});

test('WeCom callbacks on both nodes at once pull each page once', { skip }, async () => {
  const wecom = await startWecom();
  const cluster = await startCluster(2, { env });
  try {
    const [a, b] = cluster.nodes;
    const setup = await setupTeam(a);
    const made = await api(a, 'POST', '/api/v1/inboxes', {
      token: setup.admin,
      body: { kind: 'wecom', name: uid('wecom'), teams: [setup.team.id], settings: {
        corp_id: wecom.corpId, open_kfid: wecom.openKfid, secret: wecom.secret, token: 'wecomToken1',
        encoding_aes_key: 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR', api_base_url: wecom.url,
      } },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const path = made.body.inbox.webhook_path;
    const keys = { token: 'wecomToken1', aesKey: 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR' };
    const agent = await onlineAgent(b, setup.agents[0]);
    const user = `wm${uid('u').replace(/[^a-zA-Z0-9]/g, '')}`;
    const words = ['一', '二', '三', '四', '五', '六'];
    // WeCom tells both nodes (a callback each, as a load balancer spreads them); there is one cursor to pull from.
    const [one, two] = await Promise.all([
      wecom.customerWrites(`${a.url}${path}`, keys, words.map((content) => ({ from: user, content }))),
      wecom.customerWrites(`${b.url}${path}`, keys, []),
    ]);
    assert.deepEqual([one.status, two.status], [200, 200]);
    for (const w of words) await agent.next('message:new', (d) => d.message.content === w, 20000);
    // A third callback after both pulls finished: it finds nothing new, and shows where the cursor stands.
    await wecom.customerWrites(`${a.url}${path}`, keys, []);
    const cid = (await api(b, 'GET', '/api/v1/conversations?status=assigned', { token: setup.admin })).body.conversations[0].id;
    const messages = (await api(b, 'GET', `/api/v1/conversations/${cid}/messages`, { token: setup.admin })).body.messages;
    assert.deepEqual(messages.map((m) => m.content), words, 'each message kept once, in order');
    const pulled = wecom.stats.cursors.filter((c) => c !== '6');
    assert.equal(new Set(pulled).size, pulled.length, `no page pulled twice: ${JSON.stringify(wecom.stats.cursors)}`);
    agent.close();
  } finally {
    await cluster.stop();
    await wecom.stop();
  }
});
