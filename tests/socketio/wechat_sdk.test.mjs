// Kefu's WeChat crypto cross-checked with WeChat's own SDK, wechatpy from PyPI (wechatpy_oracle.py): a callback
// wechatpy seals is accepted, and the passive reply Kefu seals in safe mode (the welcome message to a new
// follower) opens with wechatpy. Skipped with the reason where wechatpy is not installed; CI installs it and sets
// KEFU_REQUIRE_SDKS=1, so there a missing SDK fails instead.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, setupTeam, onlineAgent, uid, api } from './harness.mjs';
import { startWechat, messageXml } from './wechat_standin.mjs';

const ORACLE = fileURLToPath(new URL('./wechatpy_oracle.py', import.meta.url));
const installed = spawnSync('python3', ['-c', 'import wechatpy'], { stdio: 'ignore' }).status === 0;
const skip = installed || process.env.KEFU_REQUIRE_SDKS === '1' ? false : 'wechatpy is not installed (pip install wechatpy); CI runs this';
const test = (name, fn) => nodeTest(name, { skip }, fn);

const AES_KEY = 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR';
const TOKEN = 'sdkToken42';

function oracle(args, input) {
  const r = spawnSync('python3', [ORACLE, ...args], { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wechatpy: ${r.stderr}`);
  return r.stdout.trim();
}

let server;
let wx;
before(async () => {
  if (skip) return;
  wx = await startWechat();
  server = await startServer();
});
after(async () => {
  await server?.stop();
  await wx?.stop();
});

test('a callback sealed by wechatpy is accepted; Kefu\'s sealed welcome opens with wechatpy', async () => {
  const setup = await setupTeam(server);
  const made = await api(server, 'POST', '/api/v1/inboxes', {
    token: setup.admin,
    body: { kind: 'wechat', name: uid('wx'), teams: [setup.team.id], settings: {
      app_id: wx.appId, app_secret: wx.appSecret, token: TOKEN, encoding_aes_key: AES_KEY, api_base_url: wx.url, welcome_message: '欢迎关注！有问题直接留言。',
    } },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const hook = `${server.url}${made.body.inbox.webhook_path}`;
  const agent = await onlineAgent(server, setup.agents[0]);
  const call = async (xml, { corrupt = false } = {}) => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(100000 + Math.floor(Math.random() * 900000));
    const sealed = JSON.parse(oracle(['seal', TOKEN, AES_KEY, wx.appId, nonce, timestamp], xml));
    const signature = corrupt ? sealed.msg_signature.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) : sealed.msg_signature;
    const q = new URLSearchParams({ timestamp, nonce, encrypt_type: 'aes', msg_signature: signature, signature: 'unused', openid: 'x' });
    const body = `<xml><ToUserName><![CDATA[gh_kefu]]></ToUserName><Encrypt><![CDATA[${sealed.encrypt}]]></Encrypt></xml>`;
    const res = await fetch(`${hook}?${q}`, { method: 'POST', body });
    return { status: res.status, text: await res.text() };
  };

  const user = `o${uid('sdk').replace(/[^a-zA-Z0-9]/g, '')}`;
  const accepted = await call(messageXml({ from: user, content: 'sealed by wechatpy 你好', msgId: String(Date.now()) }));
  assert.deepEqual(accepted, { status: 200, text: 'success' });
  await agent.next('message:new', (d) => d.message.content === 'sealed by wechatpy 你好');

  // One changed character of the signature: refused.
  assert.equal((await call(messageXml({ from: user, content: 'forged', msgId: String(Date.now() + 1) }), { corrupt: true })).status, 401);

  // A new follower gets the welcome as a passive reply, sealed: wechatpy checks its signature and opens it.
  const welcome = await call(messageXml({ from: user, type: 'event', event: 'subscribe' }));
  assert.equal(welcome.status, 200);
  const opened = oracle(['open', TOKEN, AES_KEY, wx.appId], welcome.text);
  assert.match(opened, new RegExp(`<ToUserName><!\\[CDATA\\[${user}\\]\\]></ToUserName>`));
  assert.match(opened, /<FromUserName><!\[CDATA\[gh_kefu\]\]><\/FromUserName>/);
  assert.match(opened, /<Content><!\[CDATA\[欢迎关注！有问题直接留言。\]\]><\/Content>/);
  agent.close();
});
