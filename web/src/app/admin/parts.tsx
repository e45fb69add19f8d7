// What the inbox editors share: a labelled text box, a copy button, an inbox's connection state (the dot and the
// card) and the polling that keeps it current while an editor is open (the server has no push for it).
import { useEffect, useRef, useState } from 'preact/hooks';
import { rest } from '../api';
import { fullDate } from '../format';
import { useT } from '../hooks';
import { store } from '../socket';
import type { ChannelState, Inbox } from '../types';
import { stateTone } from './emailSettings';

const POLL_MS = 3000;

export function StateDot({ state }: { state: ChannelState | null | undefined }) {
  return <span class={`state-dot ${stateTone(state)}`} aria-hidden="true" />;
}

/**
 * The dot, the state in words, the server's message ("connected (IDLE)", "waiting for WeChat to call the webhook
 * URL", the refusing provider's reason) and since when.
 */
export function ConnectionState({ inbox }: { inbox: Inbox }) {
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
    </section>
  );
}

/** Asks for the inbox every 3 s while mounted and the tab is visible, and reports what came back. */
export function usePolledInbox(id: string, onChanged: (i: Inbox) => void) {
  const report = useRef(onChanged);
  report.current = onChanged;
  useEffect(() => {
    let stopped = false;
    const poll = () => {
      // A hidden tab need not keep asking; the next tick after it comes back does.
      if (document.visibilityState !== 'visible') return;
      rest.inbox(id).then(
        ({ inbox: fresh }) => !stopped && report.current(fresh),
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

export function CopyButton({ value, testid }: { value: string; testid?: string }) {
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
      {done ? text.copied : text.copy}
    </button>
  );
}
