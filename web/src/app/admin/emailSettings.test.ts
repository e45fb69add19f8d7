import { describe, expect, it } from 'vitest';
import { defaultPort, emailSettings, fieldOfError, emptyEmailForm, problems, readEmail, stateTone, withTls, type EmailForm } from './emailSettings';

const stored = {
  imap: { host: 'imap.example.com', port: 993, tls: 'tls', user: 'support@example.com', folder: 'Support' },
  smtp: { host: 'smtp.example.com', port: 587, tls: 'starttls', user: null, from_address: 'support@example.com', from_name: null },
  poll_interval_secs: 120,
};

const filled = (): EmailForm => {
  const f = emptyEmailForm();
  f.imap = { ...f.imap, host: ' imap.example.com ', user: 'support@example.com', password: 'pw 1' };
  f.smtp = { ...f.smtp, host: 'smtp.example.com', from_address: 'support@example.com ', from_name: ' Support 客服 ' };
  return f;
};

describe('email inbox settings', () => {
  it('reads stored settings with empty password boxes, and fills in defaults', () => {
    const f = readEmail(stored);
    expect(f.imap).toEqual({ host: 'imap.example.com', port: '993', tls: 'tls', user: 'support@example.com', password: '', folder: 'Support' });
    expect(f.smtp).toEqual({ host: 'smtp.example.com', port: '587', tls: 'starttls', user: '', password: '', from_address: 'support@example.com', from_name: '' });
    expect(f.poll).toBe('120');
    const d = readEmail({});
    expect(d.imap.folder).toBe('INBOX');
    expect(d.poll).toBe('60');
    expect(readEmail({ imap: { tls: 'ssl3' } }).imap.tls).toBe('tls');
  });

  it('builds exactly the body the server takes: trimmed, numbers, empty optionals as null', () => {
    const body = emailSettings(filled());
    expect(body).toEqual({
      imap: { host: 'imap.example.com', port: 993, tls: 'tls', user: 'support@example.com', password: 'pw 1', folder: 'INBOX' },
      smtp: { host: 'smtp.example.com', port: 465, tls: 'tls', user: null, from_address: 'support@example.com', from_name: 'Support 客服' },
      poll_interval_secs: 60,
      tickets: false,
    });
  });

  it('keeps an inbox\'s ticket switch through an edit', () => {
    expect(readEmail({ ...stored, tickets: true }).tickets).toBe(true);
    expect(emailSettings(readEmail({ ...stored, tickets: true })).tickets).toBe(true);
    expect(readEmail(stored).tickets).toBe(false);
  });

  it('sends a password only when one was typed, so an edit keeps the stored ones', () => {
    const body = emailSettings(readEmail(stored));
    expect('password' in (body.imap as object)).toBe(false);
    expect('password' in (body.smtp as object)).toBe(false);
    const f = readEmail(stored);
    f.smtp.user = 'mailer';
    f.smtp.password = 'smtp-secret';
    const typed = emailSettings(f).smtp as Record<string, unknown>;
    expect(typed.user).toBe('mailer');
    expect(typed.password).toBe('smtp-secret');
    expect(emailSettings({ ...f, imap: { ...f.imap, folder: '  ' } }).imap).toMatchObject({ folder: 'INBOX' });
  });

  it('asks for the IMAP password on a new inbox only, and checks ports, the address and the interval', () => {
    expect(problems('Support', filled(), true)).toEqual([]);
    const edit = readEmail(stored);
    expect(problems('Support', edit, false)).toEqual([]);
    expect(problems('Support', edit, true)).toEqual(['imap.password']);
    expect(problems(' ', emptyEmailForm(), true)).toEqual(['name', 'imap.host', 'imap.user', 'imap.password', 'smtp.host', 'smtp.from_address']);
    const bad = filled();
    bad.imap.port = '70000';
    bad.smtp.port = 'x';
    bad.smtp.from_address = 'not an address';
    bad.poll = '4';
    expect(problems('Support', bad, true)).toEqual(['imap.port', 'smtp.port', 'smtp.from_address', 'poll']);
    expect(problems('Support', { ...filled(), poll: '3600' }, true)).toEqual([]);
  });

  it('moves a default port along with the security, and keeps a port the admin typed', () => {
    expect(defaultPort('imap', 'none')).toBe(143);
    expect(defaultPort('smtp', 'starttls')).toBe(587);
    const imap = emptyEmailForm().imap;
    expect(withTls('imap', imap, 'none').port).toBe('143');
    expect(withTls('smtp', emptyEmailForm().smtp, 'starttls').port).toBe('587');
    expect(withTls('imap', { ...imap, port: '10143' }, 'none')).toMatchObject({ tls: 'none', port: '10143' });
    expect(withTls('imap', { ...imap, port: '' }, 'starttls').port).toBe('143');
  });

  it("colours an inbox's connection dot", () => {
    expect(stateTone({ status: 'ok', message: 'connected (IDLE)', since: '' })).toBe('ok');
    expect(stateTone({ status: 'error', message: 'login refused', since: '' })).toBe('error');
    expect(stateTone({ status: 'waiting', message: 'waiting for WeChat to call the webhook URL', since: '' })).toBe('waiting');
    expect(stateTone({ status: 'later' as 'ok', message: '', since: '' })).toBe('unknown');
    expect(stateTone(null)).toBe('unknown');
    expect(stateTone(undefined)).toBe('unknown');
  });

  it("marks the field a server refusal names", () => {
    expect(fieldOfError('settings.imap.host is invalid: must be a host name or address')).toBe('imap.host');
    expect(fieldOfError('settings.poll_interval_secs is invalid: must be 5-3600')).toBe('poll');
    expect(fieldOfError('settings is invalid: ports are 1-65535')).toBe(null);
    expect(fieldOfError('name is invalid: must not be empty')).toBe(null);
  });
});
