// The words only the newer admin screens use (SMS and API inboxes, webhooks), in English and Chinese. They live in
// the admin chunk, so agents, who never open these screens, do not download them; the workspace's own words stay in
// ../i18n.ts. English defines the shape; the Chinese dictionary must match it, so a missing string fails `tsc`.
import type { Lang } from '../types';

const en = {
  // new inboxes of the newer kinds
  smsInboxHint: "Texts to a Twilio number arrive as conversations; agents' replies go back as texts through Twilio's Messages API.",
  apiInboxHint: "For your own app or system: it posts its customers' messages to Kefu with the inbox's secret, and receives agents' replies at its URL.",

  // SMS (Twilio)
  twilioAccount: 'Twilio account',
  twilioAccountHint: 'From the Twilio Console: Account SID and Auth Token are under Account Info on the dashboard.',
  accountSid: 'Account SID',
  authToken: 'Auth token',
  sender: 'Send replies from',
  fromNumber: 'Phone number',
  messagingServiceSid: 'Messaging Service SID',
  senderHint: 'The Twilio number in international form (like +14155550100), or a Messaging Service (MG…), or both: at least one.',
  authTokenKeptHint: 'The auth token is never shown. Leave it empty to keep the stored one.',
  twilioApiBaseUrlHint: "Twilio's API. Change it only for a proxy or a test stand-in.",
  smsFields: {
    name: 'name',
    account_sid: 'Account SID (AC and 32 hex digits)',
    auth_token: 'auth token',
    from_number: 'phone number (like +14155550100) or Messaging Service SID',
    messaging_service_sid: 'Messaging Service SID (MG and 32 hex digits)',
    api_base_url: 'API base URL (http or https, no query)',
  } as Record<string, string>,
  smsWebhookTitle: 'Connect the number',
  smsWebhookUrl: 'Webhook URL',
  smsWebhookHint:
    'In the Twilio Console, open the number (Phone Numbers → Manage → Active numbers) and under Messaging set "A message comes in" to Webhook, this URL, HTTP POST. Save.',
  smsServiceHint: "With a Messaging Service, set this URL as the service's incoming-message webhook instead (Integration → Send a webhook).",
  smsStatusHint: 'Delivery reports come back to the same URL + /status on their own: Kefu asks for them with every reply.',
  twilioCalls: 'Twilio calls',

  // API (custom integration)
  replyUrl: 'Reply URL',
  replyUrlHint: "Where Kefu POSTs agents' replies, signed with the secret. Empty = replies stay in Kefu (read them with the REST API).",
  apiFields: { name: 'name', reply_url: 'reply URL (http or https)' } as Record<string, string>,
  apiSecretTitle: 'API secret',
  apiSecretHint: 'Your integration sends it as a bearer token, and checks the signature of each reply with it. Keep it on your server.',
  rotate: 'Rotate',
  confirmRotate: 'Make a new secret? The old one stops working at once: your integration needs the new one.',
  apiSendTitle: "Send a customer's message",
  apiEndpoint: 'Endpoint',
  copyCurl: 'Copy as curl',
  apiSendHint: 'The contact id and message id are yours; the same message id posted again (a retry) is stored once. Name, email and phone are optional.',
  apiRepliesTitle: 'Receive replies',
  apiRepliesHint: "Each agent's reply is POSTed to the reply URL as JSON, signed. Answer 2xx; Kefu tries again after a 5xx or no answer, and shows any other answer to the agent as not delivered.",
  apiNoReplyUrl: 'No reply URL yet: replies stay in Kefu until you set one.',

  // signatures (API replies and webhooks)
  signatureTitle: 'Check the signature',
  signatureSteps: [
    'Take t and v1 from the X-Kefu-Signature header.',
    'Compute HMAC-SHA256 with the secret over "{t}.{body}", the raw body as received, in hex.',
    'Compare it with v1 in constant time, and reject the request if t is older than 5 minutes.',
  ],

};

export type AdminStrings = typeof en;

const zh: AdminStrings = {
  smsInboxHint: '发到 Twilio 号码的短信成为会话；客服的回复通过 Twilio 的 Messages API 以短信发回。',
  apiInboxHint: '用于你自己的应用或系统：它用此渠道的密钥把客户的消息发给 Kefu，并在它的地址接收客服的回复。',

  twilioAccount: 'Twilio 账户',
  twilioAccountHint: '在 Twilio 控制台首页的 Account Info 中查看 Account SID 和 Auth Token。',
  accountSid: 'Account SID',
  authToken: 'Auth Token',
  sender: '回复的发送方',
  fromNumber: '电话号码',
  messagingServiceSid: 'Messaging Service SID',
  senderHint: '国际格式的 Twilio 号码（如 +14155550100），或 Messaging Service（MG…），或两者都填：至少填一个。',
  authTokenKeptHint: 'Auth Token 不会显示。留空即保留已保存的值。',
  twilioApiBaseUrlHint: 'Twilio 的接口地址。仅在使用代理或测试替身时修改。',
  smsFields: {
    name: '名称',
    account_sid: 'Account SID（AC 加 32 位十六进制）',
    auth_token: 'Auth Token',
    from_number: '电话号码（如 +14155550100）或 Messaging Service SID',
    messaging_service_sid: 'Messaging Service SID（MG 加 32 位十六进制）',
    api_base_url: 'API 地址（http 或 https，不带查询参数）',
  },
  smsWebhookTitle: '接入号码',
  smsWebhookUrl: 'Webhook 地址',
  smsWebhookHint:
    '在 Twilio 控制台打开该号码（Phone Numbers → Manage → Active numbers），在 Messaging 下把“A message comes in”设为 Webhook、此 URL、HTTP POST，然后保存。',
  smsServiceHint: '使用 Messaging Service 时，改为把此 URL 设为该服务的收信 Webhook（Integration → Send a webhook）。',
  smsStatusHint: '送达回执会自动发到同一 URL 加 /status：Kefu 每次回复时都会向 Twilio 申请回执。',
  twilioCalls: 'Twilio 调用的地址',

  replyUrl: '回复地址 (URL)',
  replyUrlHint: 'Kefu 把客服的回复 POST 到这里，并用密钥签名。留空 = 回复只保存在 Kefu 中（可通过 REST API 读取）。',
  apiFields: { name: '名称', reply_url: '回复地址（http 或 https）' },
  apiSecretTitle: 'API 密钥',
  apiSecretHint: '你的集成把它作为 Bearer 令牌发送，并用它校验每条回复的签名。请只保存在你的服务器上。',
  rotate: '更换',
  confirmRotate: '生成新密钥？旧密钥会立即失效：你的集成需要改用新密钥。',
  apiSendTitle: '发送客户的消息',
  apiEndpoint: '接口地址',
  copyCurl: '复制为 curl 命令',
  apiSendHint: '联系人 ID 和消息 ID 由你决定；同一消息 ID 再次发送（重试）只保存一次。姓名、邮箱和电话可不填。',
  apiRepliesTitle: '接收回复',
  apiRepliesHint: '每条客服回复都会以签名的 JSON POST 到回复地址。请返回 2xx；遇到 5xx 或无响应时 Kefu 会重试，其他响应会向客服显示为未送达。',
  apiNoReplyUrl: '尚未设置回复地址：在设置之前，回复只保存在 Kefu 中。',

  signatureTitle: '校验签名',
  signatureSteps: [
    '从 X-Kefu-Signature 请求头中取出 t 和 v1。',
    '用密钥对 "{t}.{body}"（收到的原始请求体）计算 HMAC-SHA256，转为十六进制。',
    '以恒定时间与 v1 比较；若 t 早于 5 分钟前，则拒绝该请求。',
  ],

};

const dictionaries: Record<Lang, AdminStrings> = { 'zh-CN': zh, en };

export const adminT = (lang: Lang): AdminStrings => dictionaries[lang];
