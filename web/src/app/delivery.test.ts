import { describe, expect, it } from 'vitest';
import { deliveryLine, deliveryRank } from './delivery';
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

  it('follows a text from "Sent by SMS" to "Delivered", or to the carrier\'s reason', () => {
    expect(deliveryLine({ status: 'pending', error: null }, en, 'twilio_sms')).toEqual({ status: 'pending', text: 'Sending…' });
    expect(deliveryLine({ status: 'sent', error: null }, en, 'twilio_sms')).toEqual({ status: 'sent', text: 'Sent by SMS' });
    expect(deliveryLine({ status: 'delivered', error: null }, en, 'twilio_sms')).toEqual({ status: 'delivered', text: 'Delivered' });
    expect(deliveryLine({ status: 'sent', error: null }, t('zh-CN'), 'twilio_sms').text).toBe('短信已发出');
    expect(deliveryLine({ status: 'delivered', error: null }, t('zh-CN'), 'twilio_sms').text).toBe('已送达');
    const undelivered = deliveryLine({ status: 'failed', error: 'Twilio error 30003: the phone is unreachable' }, en, 'twilio_sms');
    expect(undelivered).toEqual({ status: 'failed', text: 'Not delivered: Twilio error 30003: the phone is unreachable' });
    expect(deliveryLine({ status: 'pending', error: 'Twilio error 20429: Too Many Requests' }, en, 'twilio_sms').text).toBe(
      'Sending… (last try: Twilio error 20429: Too Many Requests)',
    );
  });

  it('says a reply went to the integration of an API inbox', () => {
    expect(deliveryLine({ status: 'sent', error: null }, en, 'api')).toEqual({ status: 'sent', text: 'Sent to your integration' });
    expect(deliveryLine({ status: 'sent', error: null }, t('zh-CN'), 'api').text).toBe('已发送至集成');
    expect(deliveryLine({ status: 'failed', error: 'HTTP 400: {"error":"nope"}' }, t('zh-CN'), 'api').text).toBe('未送达：HTTP 400: {"error":"nope"}');
  });

  it('orders the states, so a late copy never undoes a later one', () => {
    expect([deliveryRank('pending'), deliveryRank('sent'), deliveryRank('delivered'), deliveryRank('failed'), deliveryRank(undefined)]).toEqual([0, 1, 2, 2, 0]);
  });
});
