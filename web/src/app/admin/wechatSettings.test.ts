import { describe, expect, it } from 'vitest';
import { emptyWechatForm, fieldOfError, problems, readWechat, safeMode, webhookUrl, wechatSettings, type WechatForm } from './wechatSettings';

const AES = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE';
const stored = { app_id: 'wx5f0e7b1c2d3a4b5c', api_base_url: 'http://127.0.0.1:9000', window_hours: 24, window_messages: 3, safe_mode: true };

const filled = (patch: Partial<WechatForm> = {}): WechatForm => ({
  ...emptyWechatForm(),
  app_id: ' wx5f0e7b1c2d3a4b5c ',
  app_secret: ' s3cret ',
  token: 'tok123',
  ...patch,
});

describe('WeChat inbox settings', () => {
  it('keeps the welcome message through a save: read back, sent again, at most 600 characters', () => {
    const f = readWechat({ ...stored, welcome_message: '欢迎关注！' });
    expect(f.welcome_message).toBe('欢迎关注！');
    expect(wechatSettings(f).welcome_message).toBe('欢迎关注！');
    expect(wechatSettings({ ...f, welcome_message: '  ' })).not.toHaveProperty('welcome_message');
    expect(problems('a', { ...f, welcome_message: '好'.repeat(600) }, false)).toEqual([]);
    expect(problems('a', { ...f, welcome_message: '好'.repeat(601) }, false)).toEqual(['welcome_message']);
    expect(fieldOfError('settings.welcome_message is invalid: at most 600 characters')).toBe('welcome_message');
  });

  it('starts with WeChat\'s API and its usual window, and reads stored settings with empty credential boxes', () => {
    expect(emptyWechatForm()).toEqual({
      app_id: '', app_secret: '', token: '', aes_key: '', safe_off: false,
      api_base_url: 'https://api.weixin.qq.com', window_hours: '48', window_messages: '5', welcome_message: '',
    });
    expect(readWechat(stored)).toEqual({
      app_id: 'wx5f0e7b1c2d3a4b5c', app_secret: '', token: '', aes_key: '', safe_off: false,
      api_base_url: 'http://127.0.0.1:9000', window_hours: '24', window_messages: '3', welcome_message: '',
    });
    expect(readWechat({}).api_base_url).toBe('https://api.weixin.qq.com');
    expect(safeMode(stored)).toBe(true);
    expect(safeMode({ ...stored, safe_mode: false })).toBe(false);
    expect(safeMode(null)).toBe(false);
  });

  it('asks for the AppSecret and Token of a new inbox, but not of an edit', () => {
    expect(problems('', emptyWechatForm(), true)).toEqual(['name', 'app_id', 'app_secret', 'token']);
    expect(problems('Account', readWechat(stored), false)).toEqual([]);
    expect(problems('Account', filled(), true)).toEqual([]);
  });

  it('checks what the server checks: the AppID, a 3–32 letter Token, a 43-character key, the URL and the window', () => {
    expect(problems('a', filled({ app_id: 'wx-1' }), true)).toEqual(['app_id']);
    expect(problems('a', filled({ token: 'ab' }), true)).toEqual(['token']);
    expect(problems('a', filled({ token: 'has space' }), true)).toEqual(['token']);
    expect(problems('a', { ...readWechat(stored), token: 'x'.repeat(33) }, false)).toEqual(['token']);
    expect(problems('a', filled({ aes_key: 'short' }), true)).toEqual(['encoding_aes_key']);
    expect(problems('a', filled({ aes_key: AES }), true)).toEqual([]);
    expect(problems('a', filled({ aes_key: 'short', safe_off: true }), true)).toEqual([]) // a key being turned off is not checked;
    expect(problems('a', filled({ api_base_url: 'ftp://x' }), true)).toEqual(['api_base_url']);
    expect(problems('a', filled({ api_base_url: 'https://x/?a=1' }), true)).toEqual(['api_base_url']);
    expect(problems('a', filled({ window_hours: '0', window_messages: '101' }), true)).toEqual(['window_hours', 'window_messages']);
    expect(problems('a', filled({ window_hours: '168', window_messages: '1' }), true)).toEqual([]);
  });

  it('sends credentials only when typed, and "" to turn safe mode off', () => {
    expect(wechatSettings(filled({ api_base_url: 'http://127.0.0.1:9000/' }))).toEqual({
      app_id: 'wx5f0e7b1c2d3a4b5c', app_secret: 's3cret', token: 'tok123',
      api_base_url: 'http://127.0.0.1:9000', window_hours: 48, window_messages: 5,
    });
    const edit = wechatSettings(readWechat(stored));
    expect(edit).toEqual({ app_id: 'wx5f0e7b1c2d3a4b5c', api_base_url: 'http://127.0.0.1:9000', window_hours: 24, window_messages: 3 });
    expect('encoding_aes_key' in edit).toBe(false);
    expect(wechatSettings({ ...readWechat(stored), aes_key: ` ${AES} ` }).encoding_aes_key).toBe(AES);
    expect(wechatSettings({ ...readWechat(stored), aes_key: AES, safe_off: true }).encoding_aes_key).toBe('');
  });

  it('marks the field a server refusal names', () => {
    expect(fieldOfError('settings.token is invalid: must be 3-32 letters or digits')).toBe('token');
    expect(fieldOfError('settings.app_secret is invalid: is required')).toBe('app_secret');
    expect(fieldOfError('settings.window_hours is invalid: must be 1-168')).toBe('window_hours');
    expect(fieldOfError('settings is invalid: unknown field `x`')).toBe(null);
  });

  it('builds the URL to paste into WeChat from this server\'s address', () => {
    const id = '0190f7a2-0000-7000-8000-000000000001';
    expect(webhookUrl('https://kefu.example.com', `/hooks/wechat/${id}`)).toBe(`https://kefu.example.com/hooks/wechat/${id}`);
    expect(webhookUrl('http://127.0.0.1:8080/', '/hooks/wechat/x')).toBe('http://127.0.0.1:8080/hooks/wechat/x');
  });
});
