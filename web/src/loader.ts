// The loader: the only Kefu code that runs in the host page. It draws the launcher bubble inside a shadow root
// (so the host's CSS cannot reach it), opens the chat in an iframe served by Kefu (so the host's JS cannot reach
// it either), and exposes a small API: Kefu.open(), Kefu.close(), Kefu.on('message', cb), Kefu.setUser(user) and
// Kefu.reset(). It fires a `kefu:ready` event on window once Kefu is there (the script loads async).

type Listener = (data: unknown) => void;

/** A signed-in user of the host site; `hash` = HMAC-SHA256(id, the inbox's identity secret), made by its server. */
interface KefuUser {
  id: string | number;
  name?: string;
  email?: string;
  hash: string;
}

interface KefuApi {
  open(): void;
  close(): void;
  on(event: 'message' | 'open' | 'close', cb: Listener): void;
  setUser(user: KefuUser): void;
  reset(): void;
}

declare global {
  interface Window {
    Kefu?: KefuApi;
  }
}

(function () {
  if (window.Kefu) return;
  const script = document.currentScript as HTMLScriptElement | null;
  const token = script?.dataset.token;
  if (!script || !token) {
    console.warn('[kefu] the widget script needs data-token="YOUR_WIDGET_TOKEN"');
    return;
  }
  const origin = new URL(script.src, location.href).origin;
  const params = new URLSearchParams({ token });
  if (script.dataset.transports) params.set('transports', script.dataset.transports);
  if (script.dataset.lang) params.set('lang', script.dataset.lang);
  // Where the visitor is: shown to the agent in the contact panel.
  params.set('page', location.href.slice(0, 2000));
  params.set('title', document.title.slice(0, 300));
  if (document.referrer) params.set('referrer', document.referrer.slice(0, 2000));

  const listeners: Record<string, Listener[]> = {};
  const fire = (event: string, data?: unknown) => (listeners[event] ?? []).forEach((cb) => cb(data));

  const host = document.createElement('div');
  host.setAttribute('data-kefu', '');
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = `<style>
    :host { all: initial; }
    .bubble { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%;
      border: 0; background: #1677ff; color: #fff; cursor: pointer; box-shadow: 0 4px 16px rgba(0,0,0,.2);
      z-index: 2147483646; display: flex; align-items: center; justify-content: center; }
    .bubble svg { width: 28px; height: 28px; }
    .badge { position: absolute; top: -2px; right: -2px; min-width: 18px; height: 18px; border-radius: 9px;
      background: #f5222d; color: #fff; font: 12px/18px sans-serif; text-align: center; display: none; }
    .frame { position: fixed; right: 20px; bottom: 88px; width: 370px; height: 560px; max-height: calc(100vh - 108px);
      max-width: calc(100vw - 40px); border: 0; border-radius: 12px; box-shadow: 0 8px 32px rgba(0,0,0,.25);
      z-index: 2147483647; background: #fff; display: none; }
  </style>
  <button class="bubble" part="launcher" aria-label="Chat"><svg viewBox="0 0 24 24" fill="currentColor">
  <path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg><span class="badge"></span></button>`;
  const bubble = root.querySelector('.bubble') as HTMLButtonElement;
  const badge = root.querySelector('.badge') as HTMLSpanElement;
  let frame: HTMLIFrameElement | null = null;
  let isOpen = false;

  let side: 'left' | 'right' = 'right';
  let identity: { id: string; name?: string; email?: string; hash: string } | null = null;
  let resetPending = false;

  function ensureFrame(): HTMLIFrameElement {
    if (!frame) {
      frame = document.createElement('iframe');
      frame.className = 'frame';
      if (side === 'left') {
        frame.style.right = 'auto';
        frame.style.left = '20px';
      }
      frame.title = 'Kefu chat';
      frame.allow = 'clipboard-write';
      const handover = new URLSearchParams();
      if (identity) handover.set('identity', JSON.stringify(identity));
      if (resetPending) handover.set('reset', '1');
      frame.src = `${origin}/widget/?${params}#${handover}`;
      root.appendChild(frame);
    }
    return frame;
  }

  // While messages wait unseen, the tab's title alternates with "(N) ..." so the visitor notices.
  const title = document.title;
  let blink: ReturnType<typeof setInterval> | undefined;
  function blinkTitle(count: number) {
    clearInterval(blink);
    let on = false;
    blink = setInterval(() => {
      on = !on;
      document.title = on ? `(${count}) ${title}` : title;
    }, 1000);
    document.title = `(${count}) ${title}`;
  }
  function stopBlink() {
    clearInterval(blink);
    blink = undefined;
    document.title = title;
  }
  window.addEventListener('focus', () => isOpen && stopBlink());

  function open() {
    stopBlink();
    ensureFrame().style.display = 'block';
    isOpen = true;
    frame?.contentWindow?.postMessage({ kefu: 'open' }, origin);
    badge.style.display = 'none';
    fire('open');
  }

  function close() {
    if (frame) frame.style.display = 'none';
    isOpen = false;
    frame?.contentWindow?.postMessage({ kefu: 'close' }, origin);
    fire('close');
  }

  bubble.addEventListener('click', () => (isOpen ? close() : open()));
  window.addEventListener('message', (event) => {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) return;
    const data = event.data as { kefu?: string; message?: unknown; unread?: number };
    if (data.kefu === 'message') fire('message', data.message);
    if (data.kefu === 'close') close();
    // The chat is listening now: a setUser made while it loaded must not be lost.
    if (data.kefu === 'ready' && identity) frame.contentWindow?.postMessage({ kefu: 'identity', identity }, origin);
    if (data.kefu === 'unread' && data.unread) {
      if (!isOpen) {
        badge.textContent = String(data.unread);
        badge.style.display = 'block';
      }
      blinkTitle(data.unread);
    }
  });

  // The inbox's colour and side of the page (a small, cached request); the defaults stand until it answers.
  fetch(`${origin}/api/v1/widget/config?token=${encodeURIComponent(token)}`)
    .then((r) => (r.ok ? r.json() : null))
    .then((config: { color?: string; position?: 'left' | 'right' } | null) => {
      if (config?.color) bubble.style.background = config.color;
      if (config?.position === 'left') {
        root.querySelectorAll<HTMLElement>('.bubble, .frame').forEach((el) => {
          el.style.right = 'auto';
          el.style.left = '20px';
        });
        side = 'left';
      }
    })
    .catch(() => {});

  const mount = () => document.body.appendChild(host);
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);

  window.Kefu = {
    open,
    close,
    on(event, cb) {
      (listeners[event] ??= []).push(cb);
    },
    setUser(user) {
      if (!user || user.id == null || user.id === '' || typeof user.hash !== 'string') {
        console.warn('[kefu] Kefu.setUser needs {id, hash} (hash = HMAC-SHA256(id, identity secret))');
        return;
      }
      identity = { id: String(user.id), name: user.name, email: user.email, hash: user.hash };
      frame?.contentWindow?.postMessage({ kefu: 'identity', identity }, origin);
    },
    reset() {
      identity = null;
      if (frame) frame.contentWindow?.postMessage({ kefu: 'reset' }, origin);
      else resetPending = true;
    },
  };
  window.dispatchEvent(new Event('kefu:ready'));
})();

export {};
