// What the inbox and webhook editors share: a labelled text box, the bar with a form's save button, a copy button,
// a secret shown on demand with its Copy and Rotate, the card with the URL a provider calls, an inbox's connection
// state (the dot and the card) and the polling that keeps it current while an editor is open (the server has no
// push for it).
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { rest } from '../api';
import { fullDate } from '../format';
import { useT } from '../hooks';
import { store } from '../socket';
import type { ChannelState, Inbox } from '../types';
import { stateTone } from './emailSettings';
import { attempt } from './useLoad';
import { webhookUrl } from './wechatSettings';

const POLL_MS = 3000;

export function StateDot({ state }: { state: ChannelState | null | undefined }) {
  return <span class={`state-dot ${stateTone(state)}`} aria-hidden="true" />;
}

/**
 * The dot, the state in words, the server's message ("connected (IDLE)", "waiting for WeChat to call the webhook
 * URL", the refusing provider's reason) and since when.
 */
export function ConnectionState({ inbox, children }: { inbox: Inbox; children?: ComponentChildren }) {
  const text = useT();
  const state = inbox.channel_state;
  const tone = stateTone(state);
  return (
    <section class="card connection" data-testid="channel-state" data-status={state?.status ?? 'none'} aria-live="polite">
      <h3>{text.connection}</h3>
      <div class="state-line">
        <StateDot state={state} />
        <strong>{text.channelStates[tone]}</strong>
      </div>
      {state?.message && (
        <div class={`state-message ${tone}`} data-testid="channel-state-message">
          {state.message}
        </div>
      )}
      {state?.since && <div class="muted small">{text.since(fullDate(state.since, store.lang))}</div>}
      {children}
    </section>
  );
}

/**
 * Asks for the inbox every 3 s while mounted and the tab is visible, and reports what came back. Returns the
 * reporter for the editor's own writes (a save, a new secret): an answer to a look-up sent before such a write came
 * back is dropped, so a late poll never puts the old inbox (an old secret) back on screen.
 */
export function usePolledInbox(id: string, onChanged: (i: Inbox) => void): (i: Inbox) => void {
  const report = useRef(onChanged);
  report.current = onChanged;
  const wroteAt = useRef(0);
  useEffect(() => {
    let stopped = false;
    const poll = () => {
      // A hidden tab need not keep asking; the next tick after it comes back does.
      if (document.visibilityState !== 'visible') return;
      const asked = performance.now();
      rest.inbox(id).then(
        ({ inbox: fresh }) => !stopped && asked > wroteAt.current && report.current(fresh),
        () => {},
      );
    };
    poll();
    const timer = setInterval(poll, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [id]);
  return (i: Inbox) => {
    wroteAt.current = performance.now();
    report.current(i);
  };
}

export interface FieldProps {
  label: string;
  value: string;
  onInput: (v: string) => void;
  testid: string;
  bad?: boolean;
  type?: string;
  placeholder?: string;
  class?: string;
  autocomplete?: string;
  inputMode?: 'numeric';
  disabled?: boolean;
  hint?: string;
}

export function Field(p: FieldProps) {
  return (
    <label class={p.class}>
      {p.label}
      <input
        type={p.type ?? 'text'}
        value={p.value}
        placeholder={p.placeholder}
        // The browser must not fill in the admin's own saved login here.
        autocomplete={p.autocomplete ?? 'off'}
        inputMode={p.inputMode}
        disabled={p.disabled}
        aria-invalid={p.bad ? 'true' : undefined}
        class={p.bad ? 'invalid' : undefined}
        onInput={(e) => p.onInput(e.currentTarget.value)}
        data-testid={p.testid}
      />
      {p.hint && <span class="muted small field-hint">{p.hint}</span>}
    </label>
  );
}

/**
 * The bar at the foot of a form, kept in view: the refusal in the server's (or the form's) words, "Saved" after an
 * edit went through, anything the form adds (a Delete), Cancel where there is somewhere to go back to, and the save
 * button, which says Create for something new.
 */
export function SaveBar(p: { error: string | null; saved: boolean; busy: boolean; creating: boolean; onCancel?: () => void; testid: string; children?: ComponentChildren }) {
  const text = useT();
  return (
    <div class="sticky-save">
      {p.error && (
        <div class="form-error" role="alert" data-testid={`${p.testid}-error`}>
          {p.error}
        </div>
      )}
      {p.saved && !p.creating && <span class="form-ok">{text.saved}</span>}
      {p.children}
      {p.onCancel && (
        <button type="button" class="btn" onClick={p.onCancel}>
          {text.cancel}
        </button>
      )}
      <button type="submit" class="btn primary" disabled={p.busy} data-testid={`${p.testid}-save`}>
        {p.busy ? text.saving : p.creating ? text.create : text.save}
      </button>
    </div>
  );
}

export function CopyButton({ value, testid, label }: { value: string; testid?: string; label?: string }) {
  const text = useT();
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="btn small"
      data-testid={testid}
      onClick={() =>
        navigator.clipboard?.writeText(value).then(() => {
          setDone(true);
          setTimeout(() => setDone(false), 1500);
        })
      }
    >
      {done ? text.copied : (label ?? text.copy)}
    </button>
  );
}

/**
 * The card with the URL a provider calls (this server's address and the inbox's webhook path), read-only with its
 * Copy button, then what to do with it.
 */
export function WebhookCard({ inbox, title, label, children }: { inbox: Inbox; title: string; label?: string; children?: ComponentChildren }) {
  const text = useT();
  if (!inbox.webhook_path) return null;
  const url = webhookUrl(location.origin, inbox.webhook_path);
  label ??= text.webhookUrl;
  return (
    <section class="card webhook" data-testid="webhook">
      <h3>{title}</h3>
      <div class="row-label">
        <span>{label}</span>
        <div class="snippet-row">
          <input class="mono" readOnly value={url} aria-label={label} onFocus={(e) => e.currentTarget.select()} data-testid="webhook-url" />
          <CopyButton value={url} testid="webhook-url-copy" />
        </div>
      </div>
      {children}
    </section>
  );
}

/**
 * A secret kept hidden until asked for, with Copy and a Rotate that asks first (the old secret stops working at
 * once); the refusal, if any, in the server's words. `secret` null: none yet.
 */
export function SecretRow({
  secret,
  onRotate,
  rotateLabel,
  confirmRotate,
  testid,
}: {
  secret: string | null;
  onRotate: () => Promise<unknown>;
  rotateLabel: string;
  confirmRotate: string;
  testid: string;
}) {
  const text = useT();
  const [shown, setShown] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <div class="secret-row">
        <code class="secret" data-testid={testid} data-shown={shown && secret ? 'true' : 'false'}>
          {secret ? (shown ? secret : '•'.repeat(Math.min(secret.length, 32))) : text.noSecret}
        </code>
        {secret && (
          <>
            <button type="button" class="btn small" onClick={() => setShown(!shown)} data-testid={`${testid}-show`}>
              {shown ? text.hide : text.show}
            </button>
            <CopyButton value={secret} testid={`${testid}-copy`} />
          </>
        )}
        <button
          type="button"
          class="btn small"
          disabled={busy}
          onClick={async () => {
            if (secret && !confirm(confirmRotate)) return;
            setBusy(true);
            setError(await attempt(onRotate));
            setBusy(false);
          }}
          data-testid={`${testid}-rotate`}
        >
          {rotateLabel}
        </button>
      </div>
      {error && (
        <div class="form-error" role="alert">
          {error}
        </div>
      )}
    </>
  );
}
