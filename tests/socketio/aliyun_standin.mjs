// A stand-in for Aliyun SMS (阿里云短信), inside the test suite (never inside the product): SendSms with the RPC v1
// signature checked exactly (HMAC-SHA1 with "secret&" over GET&%2F&<sorted RFC 3986 query>), Aliyun's JSON `Code`s
// (isv.MOBILE_NUMBER_ILLEGAL, isv.BUSINESS_LIMIT_CONTROL, SignatureDoesNotMatch, InvalidAccessKeyId.NotFound),
// and the pushes Aliyun makes in HTTP batch mode: incoming texts (SmsUp) and delivery reports (SmsReport), each
// a JSON array, to the URLs set in its console. 13900000000 always ends undelivered.
import { createServer } from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';

const pct = (v) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function aliyunSignature(secret, params) {
  const canonical = Object.keys(params).sort().map((k) => `${pct(k)}=${pct(params[k])}`).join('&');
  return createHmac('sha1', `${secret}&`).update(`GET&${pct('/')}&${pct(canonical)}`).digest('base64');
}

export async function startAliyun({ accessKeyId = `LTAI${randomBytes(8).toString('hex')}`, accessKeySecret = randomBytes(15).toString('hex') } = {}) {
  const sent = [];
  const waiters = [];
  let reportUrl = null;
  let throttleOnce = 0;
  const json = (res, body) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://standin');
    const params = Object.fromEntries(url.searchParams);
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const { Signature, ...signed } = params;
    if (params.AccessKeyId !== accessKeyId) return json(res, { Code: 'InvalidAccessKeyId.NotFound', Message: 'Specified access key is not found.', RequestId: requestId });
    if (Signature !== aliyunSignature(accessKeySecret, signed)) return json(res, { Code: 'SignatureDoesNotMatch', Message: 'Specified signature is not matched with our calculation.', RequestId: requestId });
    for (const p of ['Action', 'Format', 'RegionId', 'SignatureMethod', 'SignatureNonce', 'SignatureVersion', 'Timestamp', 'Version', 'PhoneNumbers', 'SignName', 'TemplateCode']) {
      if (!params[p]) return json(res, { Code: 'MissingParameter', Message: `${p} is mandatory for this action.`, RequestId: requestId });
    }
    if (params.Action !== 'SendSms' || params.Version !== '2017-05-25' || params.SignatureMethod !== 'HMAC-SHA1') return json(res, { Code: 'InvalidParameter', Message: 'bad action', RequestId: requestId });
    if (Math.abs(Date.parse(params.Timestamp) - Date.now()) > 15 * 60_000) return json(res, { Code: 'InvalidTimeStamp.Expired', Message: 'Specified time stamp or date value is expired.', RequestId: requestId });
    if (throttleOnce > 0) { throttleOnce -= 1; return json(res, { Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: '触发分钟级流控Permits:1', RequestId: requestId }); }
    if (!/^1\d{10}$/.test(params.PhoneNumbers) && !/^[2-9]\d{7,14}$/.test(params.PhoneNumbers)) return json(res, { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: '非法手机号', RequestId: requestId });
    let templateParam;
    try { templateParam = JSON.parse(params.TemplateParam ?? '{}'); } catch { return json(res, { Code: 'isv.INVALID_JSON_PARAM', Message: 'JSON参数不合法', RequestId: requestId }); }
    const bizId = `${Date.now()}^${randomBytes(6).toString('hex')}`;
    const entry = { ...params, templateParam, bizId };
    sent.push(entry);
    for (const w of [...waiters]) if (w.pred(entry)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(entry); }
    json(res, { Code: 'OK', Message: 'OK', BizId: bizId, RequestId: requestId });
    if (reportUrl) {
      const success = params.PhoneNumbers !== '13900000000';
      setImmediate(() => fetch(reportUrl, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ phone_number: params.PhoneNumbers, send_time: '2026-11-27 10:00:00', report_time: '2026-11-27 10:00:05', success, err_code: success ? 'DELIVERED' : 'MK:0001', err_msg: success ? '用户接收成功' : '用户关机', sms_size: '1', biz_id: bizId, out_id: params.OutId }]),
      }).catch(() => {}));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  let seq = 1000;
  return {
    url: `http://127.0.0.1:${server.address().port}`, accessKeyId, accessKeySecret, sent,
    /** Where delivery reports go (set in Aliyun's console). */
    reportTo(url) { reportUrl = url; },
    throttleNext(n = 1) { throttleOnce = n; },
    nextSent(pred, ms = 20000) {
      const found = sent.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) { waiters.splice(i, 1); reject(new Error(`nothing matching was sent: ${JSON.stringify(sent)}`)); } }, ms);
      });
    },
    /** Incoming texts, pushed as Aliyun's SmsUp batch. */
    async push(url, texts) {
      const body = texts.map((t) => ({ phone_number: t.phone, content: t.content, send_time: '2026-11-27 10:00:00', dest_code: '1234', sequence_id: t.sequenceId ?? ++seq }));
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, text: await res.text() };
    },
    stop: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}
