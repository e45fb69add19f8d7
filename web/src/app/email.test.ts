import { describe, expect, it } from 'vitest';
import { deliveryLine } from './email';
import { t } from './i18n';

describe('delivery line', () => {
  const en = t('en');
  it('says where an emailed reply stands', () => {
    expect(deliveryLine({ status: 'pending', error: null }, en)).toEqual({ status: 'pending', text: 'Sending…' });
    expect(deliveryLine({ status: 'sent', error: null }, en)).toEqual({ status: 'sent', text: 'Sent by email' });
    const failed = deliveryLine({ status: 'failed', error: '550 5.1.1 <x@example.com>: User unknown' }, en);
    expect(failed).toEqual({ status: 'failed', text: 'Not delivered: 550 5.1.1 <x@example.com>: User unknown' });
  });

  it('names the last try while a busy server is retried, and never leaves a failure without words', () => {
    expect(deliveryLine({ status: 'pending', error: '451 4.3.0 Mailbox busy' }, en).text).toBe('Sending… (last try: 451 4.3.0 Mailbox busy)');
    expect(deliveryLine({ status: 'failed', error: null }, en).text).toBe('Not delivered: Something went wrong');
    expect(deliveryLine({ status: 'sent', error: null }, t('zh-CN')).text).toBe('已通过邮件发送');
  });
});
