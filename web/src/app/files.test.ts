import { describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES, fileClientId, retryable, showsInline, uploadPath } from './files';

describe('files', () => {
  it('shows the pictures every browser draws, and nothing else, inline', () => {
    for (const t of ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'IMAGE/PNG', 'image/jpeg; charset=binary']) {
      expect(showsInline(t), t).toBe(true);
    }
    for (const t of ['image/svg+xml', 'image/heic', 'image/bmp', 'application/pdf', 'audio/amr', 'text/html', '']) {
      expect(showsInline(t), t).toBe(false);
    }
  });

  it('puts the file name, client id and note flag in the query, encoded', () => {
    const path = uploadPath('c-1', { filename: '收据 #2&a=b+c.png', clientId: 'file-ab', private: false });
    expect(path.startsWith('/conversations/c-1/attachments?')).toBe(true);
    const query = new URLSearchParams(path.split('?')[1]);
    expect(query.get('filename')).toBe('收据 #2&a=b+c.png');
    expect(query.get('client_id')).toBe('file-ab');
    expect(query.get('private')).toBe('false');
    expect([...query.keys()]).toEqual(['filename', 'client_id', 'private']);
    expect(path).not.toMatch(/[ #收]|&a=/);
    expect(uploadPath('c-1', { filename: 'a.pdf', clientId: 'x', private: true })).toMatch(/&private=true$/);
    expect(uploadPath('a/b?', { filename: 'a', clientId: 'x', private: false })).toMatch(/^\/conversations\/a%2Fb%3F\/attachments\?/);
  });

  it('chooses a fresh client id per file, within the 64 characters the server takes', () => {
    const a = fileClientId();
    const b = fileClientId();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^file-[0-9a-f]{32}$/);
    expect(a.length).toBeLessThanOrEqual(64);
    expect(fileClientId((bytes) => bytes.fill(10))).toBe('file-' + '0a'.repeat(16));
  });

  it('retries what got no answer or a server fault, never a refusal', () => {
    expect(retryable(0)).toBe(true);
    expect(retryable(502)).toBe(true);
    for (const s of [403, 409, 413, 422]) expect(retryable(s)).toBe(false);
    expect(MAX_FILE_BYTES).toBe(20 * 1024 * 1024);
  });
});
