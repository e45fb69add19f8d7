// Outbound webhooks: the organisation's subscriptions (URL, events, an Active switch that saves at once), a form to
// add one or change its URL and events, its signing secret with Copy and Rotate, how to check a signature, and its
// delivery log (event, status, HTTP status, tries, last error, time), refreshed every few seconds while open and by
// hand, with Retry on a failed delivery. Admins only: the server answers others 403, and an older server 404.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, rest } from '../api';
import { fullDate } from '../format';
import { useT } from '../hooks';
import { store } from '../socket';
import type { Webhook, WebhookDelivery } from '../types';
import { SignatureHelp } from './ApiInbox';
import { useAdminT } from './useAdminT';
import { Field, SaveBar, SecretRow } from './parts';
import { attempt } from './useLoad';
import {
  emptyWebhookForm,
  fieldOfError,
  mayRetry,
  problems,
  readWebhook,
  replaceDelivery,
  shortUrl,
  toggleEvent,
  upsertWebhook,
  WEBHOOK_EVENTS,
  webhookBody,
  type WebhookField,
  type WebhookForm as Form,
} from './webhooks';

const POLL_MS = 3000;

/** A new webhook (webhook = null) or an edit of its URL and events; the server's 422 words show by the save button. */
function WebhookForm({ webhook, onSaved, onDeleted, onCancel }: { webhook: Webhook | null; onSaved: (w: Webhook) => void; onDeleted?: () => void; onCancel?: () => void }) {
  const text = useT();
  const words = useAdminT();
  const creating = !webhook;
  const [f, setF] = useState<Form>(() => (webhook ? readWebhook(webhook) : emptyWebhookForm()));
  const [invalid, setInvalid] = useState<WebhookField[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const bad = (k: WebhookField) => invalid.includes(k);
  const edit = (patch: Partial<Form>, fixed: WebhookField) => {
    setF({ ...f, ...patch });
    setSaved(false);
    if (bad(fixed)) setInvalid(invalid.filter((k) => k !== fixed));
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const wrong = problems(f);
    setInvalid(wrong);
    setSaved(false);
    if (wrong.length) {
      setError(text.checkFields(wrong.map((k) => words.webhookFields[k])));
      return;
    }
    // An edit sends what changed; its Active switch is the list's.
    const body = webhookBody(creating ? f : { ...f, active: webhook.active }, webhook ?? undefined);
    if (!body) {
      setError(null);
      setSaved(true);
      return;
    }
    setBusy(true);
    const err = await attempt(async () => {
      const { webhook: next } = webhook ? await rest.updateWebhook(webhook.id, body) : await rest.createWebhook(body as Required<Form>);
      onSaved(next);
    });
    setBusy(false);
    setError(err);
    setSaved(!err);
    const named = err ? fieldOfError(err) : null;
    if (named) setInvalid([named]);
  };

  const remove = async () => {
    if (!webhook || !confirm(text.confirmDelete(webhook.url))) return;
    const err = await attempt(() => rest.deleteWebhook(webhook.id));
    setError(err);
    if (!err) onDeleted?.();
  };

  return (
    <form class="inbox-form" onSubmit={save} noValidate data-testid="webhook-form">
      <section class="card">
        <h3>{creating ? words.newWebhook : shortUrl(webhook.url)}</h3>
        <Field
          class="row-label wide"
          label={words.webhookUrlLabel}
          type="url"
          value={f.url}
          onInput={(url) => edit({ url }, 'url')}
          bad={bad('url')}
          placeholder="https://example.com/kefu/events"
          hint={words.webhookUrlHint}
          testid="wh-url"
        />
        <fieldset class={bad('events') ? 'invalid' : undefined} aria-invalid={bad('events') ? 'true' : undefined} data-testid="wh-events">
          <legend>{words.events}</legend>
          <div class="event-checks">
            {WEBHOOK_EVENTS.map((ev) => (
              <label class="check">
                <input type="checkbox" checked={f.events.includes(ev)} onChange={(e) => edit({ events: toggleEvent(f.events, ev, e.currentTarget.checked) }, 'events')} data-testid={`wh-event-${ev}`} />
                <span>
                  {words.eventNames[ev]} <code class="muted small">{ev}</code>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        {creating && (
          <label class="check">
            <input type="checkbox" checked={f.active} onChange={(e) => setF({ ...f, active: e.currentTarget.checked })} data-testid="wh-active" />
            {words.webhookActive}
          </label>
        )}
      </section>
      <SaveBar error={error} saved={saved} busy={busy} creating={creating} onCancel={onCancel} testid="wh">
        {!creating && (
          <button type="button" class="btn danger" onClick={remove} data-testid="wh-delete">
            {text.delete}
          </button>
        )}
      </SaveBar>
    </form>
  );
}

/** The log of one webhook: asked for on open, every 3 s while the tab is visible, and on Refresh. */
function Deliveries({ webhook }: { webhook: Webhook }) {
  const text = useT();
  const words = useAdminT();
  const [list, setList] = useState<WebhookDelivery[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const live = useRef(true);
  // An answer to a look-up sent before a retry came back would show the retried delivery failed again: dropped.
  const retriedAt = useRef(0);
  const load = async () => {
    const asked = performance.now();
    try {
      const { deliveries } = await rest.webhookDeliveries(webhook.id);
      if (live.current && asked > retriedAt.current) {
        setList(deliveries);
        setError(null);
      }
    } catch (e) {
      if (live.current) setError((e as Error).message);
    }
  };
  useEffect(() => {
    live.current = true;
    void load();
    const timer = setInterval(() => document.visibilityState === 'visible' && void load(), POLL_MS);
    return () => {
      live.current = false;
      clearInterval(timer);
    };
  }, [webhook.id]);

  const retry = async (d: WebhookDelivery) => {
    const err = await attempt(async () => {
      const { delivery } = await rest.retryWebhookDelivery(webhook.id, d.id);
      retriedAt.current = performance.now();
      setList((l) => l && replaceDelivery(l, delivery));
    });
    setError(err);
  };

  return (
    <section class="card flush" data-testid="deliveries">
      <div class="card-head">
        <div>
          <h3>{words.deliveries}</h3>
          <p class="muted small">{words.deliveriesHint}</p>
        </div>
        <button
          type="button"
          class="btn small"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            await load();
            setBusy(false);
          }}
          data-testid="deliveries-refresh"
        >
          {words.refresh}
        </button>
      </div>
      {error && (
        <div class="form-error pad" role="alert" data-testid="deliveries-error">
          {error}
        </div>
      )}
      {list === null ? (
        <p class="muted pad">{text.loading}</p>
      ) : list.length === 0 ? (
        <p class="muted pad" data-testid="deliveries-empty">
          {words.noDeliveries}
        </p>
      ) : (
        <table class="table deliveries">
          <thead>
            <tr>
              <th class="c-event">{words.colEvent}</th>
              <th class="c-status">{words.colStatus}</th>
              <th class="c-http">{words.colHttp}</th>
              <th class="c-tries">{words.colAttempts}</th>
              <th>{words.colError}</th>
              <th class="c-time">{words.colTime}</th>
              <th class="c-act" />
            </tr>
          </thead>
          <tbody>
            {list.map((d) => (
              <tr key={d.id} data-testid="delivery-row" data-delivery-id={d.id} data-status={d.status} data-event={d.event}>
                <td class="mono">{d.event}</td>
                <td>
                  <span class={`delivery-pill ${d.status}`} data-testid="delivery-status-text">
                    {words.deliveryStatuses[d.status] ?? d.status}
                  </span>
                  {d.status === 'pending' && d.attempts > 0 && <div class="muted small">{words.nextTry(fullDate(d.next_attempt_at, store.lang))}</div>}
                </td>
                <td class="mono" data-testid="delivery-http">
                  {d.response_status ?? '—'}
                </td>
                <td data-testid="delivery-attempts">{d.attempts}</td>
                <td class="delivery-error" title={d.last_error ?? undefined} data-testid="delivery-error">
                  {d.last_error ?? ''}
                </td>
                <td class="nowrap small">{fullDate(d.created_at, store.lang)}</td>
                <td class="right">
                  {mayRetry(d) && (
                    <button type="button" class="btn small" onClick={() => retry(d)} data-testid="delivery-retry">
                      {words.resend}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The secret that signs this webhook's deliveries, and what a delivery carries. */
function SigningSecret({ webhook, onChanged }: { webhook: Webhook; onChanged: (w: Webhook) => void }) {
  const words = useAdminT();
  return (
    <section class="card" data-testid="wh-secret-card">
      <h3>{words.signingSecret}</h3>
      <p class="muted small">{words.signingSecretHint}</p>
      <SecretRow
        secret={webhook.secret}
        onRotate={async () => onChanged((await rest.rotateWebhookSecret(webhook.id)).webhook)}
        rotateLabel={words.rotate}
        confirmRotate={words.confirmRotate}
        testid="wh-secret"
      />
      <p class="muted small">{words.payloadHint}</p>
    </section>
  );
}

export function Webhooks() {
  const text = useT();
  const words = useAdminT();
  const [list, setList] = useState<Webhook[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    rest.webhooks().then(
      ({ webhooks }) => setList(webhooks),
      (e: Error) =>
        setLoadError(e instanceof ApiError && e.status === 404 ? words.webhooksUnavailable : e instanceof ApiError && e.status === 403 ? words.webhooksAdminOnly : e.message),
    );
  }, []);
  if (loadError)
    return (
      <div class="notice" data-testid="webhooks-unavailable">
        {loadError}
      </div>
    );
  if (!list) return <p class="muted">{text.loading}</p>;
  const open = creating ? undefined : (list.find((w) => w.id === selected) ?? list[0]);
  const changed = (w: Webhook) => setList((l) => upsertWebhook(l ?? [], w));

  const setActive = async (w: Webhook, active: boolean) => {
    const err = await attempt(async () => changed((await rest.updateWebhook(w.id, { active })).webhook));
    setError(err);
  };

  return (
    <div class="admin-section" data-testid="webhooks">
      <div class="inbox-bar">
        <p class="muted small grow">{words.webhooksHint}</p>
        <button type="button" class="btn" disabled={creating} onClick={() => setCreating(true)} data-testid="new-webhook">
          + {words.newWebhook}
        </button>
      </div>
      {error && (
        <div class="form-error" role="alert" data-testid="webhooks-error">
          {error}
        </div>
      )}
      {list.length === 0 && !creating ? (
        <p class="muted" data-testid="webhooks-empty">
          {words.noWebhooks}
        </p>
      ) : (
        list.length > 0 && (
          <section class="card flush">
            <table class="table webhook-list">
              <thead>
                <tr>
                  <th>{words.webhookUrlLabel}</th>
                  <th>{words.events}</th>
                  <th class="c-active">{words.webhookActiveShort}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((w) => (
                  <tr key={w.id} class={w === open ? 'on' : w.active ? '' : 'inactive'} data-testid="webhook-row" data-webhook-id={w.id} data-active={String(w.active)}>
                    <td>
                      <button
                        type="button"
                        class="link url-link"
                        title={w.url}
                        aria-current={w === open ? 'true' : undefined}
                        onClick={() => {
                          setSelected(w.id);
                          setCreating(false);
                        }}
                        data-testid="webhook-open"
                      >
                        {shortUrl(w.url)}
                      </button>
                    </td>
                    <td class="events-cell" title={w.events.map((e) => words.eventNames[e] ?? e).join('\n')} data-testid="webhook-events">
                      {w.events.join(', ')}
                    </td>
                    <td class="c-active">
                      <label class="check">
                        <input type="checkbox" checked={w.active} onChange={(e) => setActive(w, e.currentTarget.checked)} aria-label={`${words.webhookActiveShort}: ${w.url}`} data-testid="webhook-active" />
                      </label>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        )
      )}
      {creating ? (
        <div class="new-inbox">
          <WebhookForm
            webhook={null}
            onSaved={(w) => {
              changed(w);
              setSelected(w.id);
              setCreating(false);
            }}
            onCancel={() => setCreating(false)}
          />
        </div>
      ) : (
        open && (
          <div class="inbox-layout" key={open.id}>
            <div class="inbox-form">
              <WebhookForm
                webhook={open}
                onSaved={changed}
                onDeleted={() => {
                  setList((l) => (l ?? []).filter((x) => x.id !== open.id));
                  setSelected(null);
                }}
              />
              <Deliveries webhook={open} />
              <SignatureHelp />
            </div>
            <div class="side-sticky">
              <SigningSecret webhook={open} onChanged={changed} />
            </div>
          </div>
        )
      )}
    </div>
  );
}
