import { describe, expect, it } from 'vitest';
import { aliyunPushUrls, channelFieldOfError, channelProblems, channelSettings, emptyChannelForm, readChannel } from './channelSettings';

describe('Aliyun SMS, Weibo and WeCom settings', () => {
  it('starts a new Aliyun inbox at its defaults and asks for every credential', () => {
    const f = emptyChannelForm('aliyun_sms');
    expect(f.template_param).toBe('content');
    expect(f.region_id).toBe('cn-hangzhou');
    expect(f.api_base_url).toBe('https://dysmsapi.aliyuncs.com');
    expect(channelProblems('aliyun_sms', '', f, true)).toEqual(['name', 'access_key_id', 'access_key_secret', 'sign_name', 'template_code']);
  });

  it('reads a stored inbox without its secrets and sends every other setting back', () => {
    const stored = { access_key_id: 'LTAI123', sign_name: '阿里云短信测试', template_code: 'SMS_154950909', template_param: 'msg', region_id: 'cn-shanghai', api_base_url: 'http://127.0.0.1:9/' };
    const f = readChannel('aliyun_sms', stored);
    expect(f.access_key_secret).toBe('');
    expect(channelProblems('aliyun_sms', 'Shop', f, false)).toEqual([]);
    expect(channelSettings('aliyun_sms', f)).toEqual({ ...stored, api_base_url: 'http://127.0.0.1:9' });
    expect(channelSettings('aliyun_sms', { ...f, access_key_secret: ' s3cret ' }).access_key_secret).toBe('s3cret');
  });

  it('falls back to the defaults for an emptied box', () => {
    const f = { ...emptyChannelForm('aliyun_sms'), template_param: ' ', region_id: '' };
    expect(channelSettings('aliyun_sms', f)).toMatchObject({ template_param: 'content', region_id: 'cn-hangzhou' });
  });

  it('Weibo: both credentials on create, unchanged on edit', () => {
    const f = emptyChannelForm('weibo');
    expect(channelProblems('weibo', 'W', f, true)).toEqual(['app_secret', 'access_token']);
    expect(channelProblems('weibo', 'W', f, false)).toEqual([]);
    expect(channelSettings('weibo', f)).toEqual({ api_base_url: 'https://m.api.weibo.com' });
  });

  it('WeCom: the window as numbers, the key 43 characters', () => {
    const f = { ...emptyChannelForm('wecom'), corp_id: 'ww1', open_kfid: 'wkAB', secret: 's', token: 'tok', encoding_aes_key: 'x'.repeat(42) };
    expect(channelProblems('wecom', 'K', f, true)).toEqual(['encoding_aes_key']);
    const ok = { ...f, encoding_aes_key: 'a'.repeat(43), window_hours: '24' };
    expect(channelProblems('wecom', 'K', ok, true)).toEqual([]);
    expect(channelSettings('wecom', ok)).toMatchObject({ window_hours: 24, window_messages: 5, api_base_url: 'https://qyapi.weixin.qq.com' });
    expect(channelProblems('wecom', 'K', { ...ok, window_hours: '200' }, true)).toEqual(['window_hours']);
    expect(readChannel('wecom', { window_hours: 12 }).window_hours).toBe('12');
  });

  it('names the field a server refusal is about', () => {
    expect(channelFieldOfError('aliyun_sms', 'settings.sign_name is invalid: too long')).toBe('sign_name');
    expect(channelFieldOfError('weibo', 'settings.sign_name is invalid')).toBeNull();
  });

  it("builds Aliyun's two push URLs with the token", () => {
    expect(aliyunPushUrls('https://kefu.example.com/', '/hooks/aliyun_sms/1', 'a b')).toEqual({
      texts: 'https://kefu.example.com/hooks/aliyun_sms/1?token=a%20b',
      reports: 'https://kefu.example.com/hooks/aliyun_sms/1/report?token=a%20b',
    });
  });
});
