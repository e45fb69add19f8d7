import { describe, expect, it } from 'vitest';
import { fromTag, pickLang, t } from './i18n';
import { parseUserAgent, summariseUserAgent } from './format';

describe('language choice', () => {
  it("prefers the user's saved locale, then this browser's last choice, then the browser language", () => {
    expect(pickLang('en', 'zh-CN', 'zh-CN')).toBe('en');
    expect(pickLang(null, 'zh-CN', 'en-US')).toBe('zh-CN');
    expect(pickLang(undefined, null, 'zh-TW')).toBe('zh-CN');
    expect(pickLang(null, null, 'de-DE')).toBe('en');
    expect(pickLang(null, 'fr', '')).toBe('en');
    expect(fromTag('ZH')).toBe('zh-CN');
  });

  it('has every string in both languages', () => {
    const walk = (a: object, b: object, path: string) => {
      expect(Object.keys(b).sort(), path).toEqual(Object.keys(a).sort());
      for (const [k, v] of Object.entries(a)) {
        const w = (b as Record<string, unknown>)[k];
        expect(typeof w, `${path}.${k}`).toBe(typeof v);
        if (v && typeof v === 'object') walk(v, w as object, `${path}.${k}`);
        if (typeof v === 'string') expect((w as string).length, `${path}.${k}`).toBeGreaterThan(0);
      }
    };
    walk(t('en'), t('zh-CN'), 'strings');
  });
});

describe('browser summary', () => {
  it('names the browser and system of common User-Agents', () => {
    const chromeLinux = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
    expect(parseUserAgent(chromeLinux)).toEqual({ browser: 'Chrome 140', os: 'Linux' });
    expect(summariseUserAgent(chromeLinux, t('en').on)).toBe('Chrome 140 on Linux');
    const edge = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Safari/537.36 Edg/139.0.0.0';
    expect(parseUserAgent(edge)).toEqual({ browser: 'Edge 139', os: 'Windows' });
    const safari = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
    expect(parseUserAgent(safari)).toEqual({ browser: 'Safari 17.5', os: 'iOS' });
    const firefox = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0';
    expect(parseUserAgent(firefox)).toEqual({ browser: 'Firefox 128', os: 'macOS' });
    expect(summariseUserAgent('curl/8.0', t('en').on)).toBe('curl/8.0');
  });
});
