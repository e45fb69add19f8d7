import { describe, expect, it } from 'vitest';
import { deliveryLine } from './delivery';
import { t } from './i18n';

describe('delivery line', () => {
  const en = t('en');
  it('says where an emailed reply stands', () => {
    expect(deliveryLine({ status: 'pending', error: null }, en, 'email')).toEqual({ status: 'pending', text: 'Sending…' });
    expect(deliveryLine({ status: 'sent', error: null }, en, 'email')).toEqual({ status: 'sent', text: 'Sent by email' });
    const failed = deliveryLine({ status: 'failed', error: '550 5.1.1 <x@example.com>: User unknown' }, en, 'email');
    expect(failed).toEqual({ status: 'failed', text: 'Not delivered: 550 5.1.1 <x@example.com>: User unknown' });
  });

  it('names the last try while a busy server is retried, and never leaves a failure without words', () => {
    expect(deliveryLine({ status: 'pending', error: '451 4.3.0 Mailbox busy' }, en, 'email').text).toBe('Sending… (last try: 451 4.3.0 Mailbox busy)');
    expect(deliveryLine({ status: 'failed', error: null }, en, 'email').text).toBe('Not delivered: Something went wrong');
    expect(deliveryLine({ status: 'sent', error: null }, t('zh-CN'), 'email').text).toBe('已通过邮件发送');
  });

  it('is the same line for a WeChat reply, naming WeChat when sent', () => {
    expect(deliveryLine({ status: 'sent', error: null }, en, 'wechat').text).toBe('Sent to WeChat');
    expect(deliveryLine({ status: 'sent', error: null }, t('zh-CN'), 'wechat').text).toBe('已发送到微信');
    const refused = deliveryLine({ status: 'failed', error: 'WeChat refused (45015): the 48 hours passed' }, en, 'wechat');
    expect(refused).toEqual({ status: 'failed', text: 'Not delivered: WeChat refused (45015): the 48 hours passed' });
    expect(deliveryLine({ status: 'pending', error: null }, t('zh-CN'), 'wechat').text).toBe('发送中…');
  });

  it('says plain "Sent" while the channel is not known yet', () => {
    expect(deliveryLine({ status: 'sent', error: null }, en).text).toBe('Sent');
    expect(deliveryLine({ status: 'sent', error: null }, en, 'web').text).toBe('Sent');
  });
});
