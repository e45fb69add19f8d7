import { describe, expect, it } from 'vitest';
import { compactNumber, emptySmsForm, fieldOfError, isE164, problems, readSms, smsSettings, type SmsForm } from './smsSettings';

const SID = 'AC0123456789abcdef0123456789abcdef';
const MG = 'MG0123456789abcdef0123456789abcdef';
const stored = { account_sid: SID, from_number: '+14155550100', api_base_url: 'http://127.0.0.1:9000' };

const filled = (patch: Partial<SmsForm> = {}): SmsForm => ({ ...emptySmsForm(), account_sid: ` ${SID} `, auth_token: ' tok ', from_number: '+1 (415) 555-0100', ...patch });

describe('SMS inbox settings', () => {
  it("starts with Twilio's API, and reads stored settings with an empty token box", () => {
    expect(emptySmsForm()).toEqual({ account_sid: '', auth_token: '', from_number: '', messaging_service_sid: '', api_base_url: 'https://api.twilio.com' });
    expect(readSms(stored)).toEqual({ account_sid: SID, auth_token: '', from_number: '+14155550100', messaging_service_sid: '', api_base_url: 'http://127.0.0.1:9000' });
    expect(readSms({ account_sid: SID, messaging_service_sid: MG }).api_base_url).toBe('https://api.twilio.com');
    expect(readSms(null).account_sid).toBe('');
  });

  it('asks for the auth token of a new inbox, but not of an edit', () => {
    expect(problems('', emptySmsForm(), true)).toEqual(['name', 'account_sid', 'auth_token', 'from_number']);
    expect(problems('Texts', readSms(stored), false)).toEqual([]);
    expect(problems('Texts', filled(), true)).toEqual([]);
  });

  it('checks what the server checks: the SIDs, an E.164 number or a messaging service, and the URL', () => {
    expect(problems('a', filled({ account_sid: 'AC12' }), true)).toEqual(['account_sid']);
    expect(problems('a', filled({ account_sid: SID.replace('AC', 'MG') }), true)).toEqual(['account_sid']);
    expect(problems('a', filled({ from_number: '4155550100' }), true)).toEqual(['from_number']);
    expect(problems('a', filled({ from_number: '+0155550100' }), true)).toEqual(['from_number']);
    expect(problems('a', filled({ from_number: '', messaging_service_sid: MG }), true)).toEqual([]);
    expect(problems('a', filled({ from_number: '', messaging_service_sid: '' }), true)).toEqual(['from_number']);
    expect(problems('a', filled({ messaging_service_sid: 'MG1' }), true)).toEqual(['messaging_service_sid']);
    expect(problems('a', filled({ api_base_url: 'ftp://x' }), true)).toEqual(['api_base_url']);
    expect(problems('a', filled({ api_base_url: 'https://x/?a=1' }), true)).toEqual(['api_base_url']);
    expect(isE164('+8613800138000')).toBe(true);
    expect(isE164('+1234567')).toBe(true);
    expect(isE164('+123456')).toBe(false);
    expect(isE164('+1234567890123456')).toBe(false);
    expect(compactNumber(' +1 (415) 555-0100 ')).toBe('+14155550100');
  });

  it('sends the token only when typed, and leaves out an empty way of sending', () => {
    expect(smsSettings(filled({ api_base_url: 'http://127.0.0.1:9000/' }))).toEqual({
      account_sid: SID, auth_token: 'tok', from_number: '+14155550100', api_base_url: 'http://127.0.0.1:9000',
    });
    const edit = smsSettings(readSms(stored));
    expect(edit).toEqual({ account_sid: SID, from_number: '+14155550100', api_base_url: 'http://127.0.0.1:9000' });
    expect('auth_token' in edit).toBe(false);
    expect(smsSettings({ ...readSms(stored), from_number: '', messaging_service_sid: ` ${MG}` })).toEqual({
      account_sid: SID, messaging_service_sid: MG, api_base_url: 'http://127.0.0.1:9000',
    });
  });

  it('marks the field a server refusal names', () => {
    expect(fieldOfError('settings.from_number is invalid: must be a phone number in international form, like +8613800138000')).toBe('from_number');
    expect(fieldOfError('settings.auth_token is invalid: is required')).toBe('auth_token');
    expect(fieldOfError('settings.account_sid is invalid: must be AC followed by 32 hex digits')).toBe('account_sid');
    expect(fieldOfError('settings.messaging_service_sid is invalid: must be MG followed by 32 hex digits')).toBe('messaging_service_sid');
    expect(fieldOfError('settings is invalid: unknown field `x`')).toBe(null);
    expect(fieldOfError('name is invalid: must not be empty')).toBe(null);
  });
});
