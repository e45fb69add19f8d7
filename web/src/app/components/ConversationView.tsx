// The middle column: the open conversation's header and actions, its messages in seq order with date
// separators, private notes, the visitor's read mark and typing indicator, the composer, and "Create ticket"
// (the chat becomes a ticket, which then opens). An email, WeChat, SMS or API conversation says so in its header,
// with who the customer is there, and each reply delivered to such a channel says whether it went out (and, for a
// text, whether the carrier delivered it). Files come as download links, pictures as thumbnails in them.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { rest } from '../api';
import { deliveryLine } from '../delivery';
import { showsInline } from '../files';
import { dayLabel, hhmm, sameDay } from '../format';
import { useT } from '../hooks';
import { contactName, mayAct } from '../lists';
import { store } from '../socket';
import { visitorReadMark, type Timeline } from '../timeline';
import type { Contact, Conversation, Delivery, InboxKind, Lang } from '../types';
import { Composer } from './Composer';
import { TransferDialog } from './TransferDialog';
import { Stars } from './Stars';

/** Under a reply delivered to another channel: "Sending…", "Sent by email" / "Sent to WeChat" / "Sent by SMS" ✓,
 * "Delivered" ✓✓, or the refusing provider's reason in red. */
function DeliveryStatus({ delivery, kind }: { delivery: Delivery; kind?: InboxKind }) {
  const text = useT();
  const line = deliveryLine(delivery, text, kind);
  return (
    <div class={`delivery ${line.status}`} data-testid="delivery-status" data-status={line.status} role={line.status === 'failed' ? 'alert' : undefined}>
      {line.status === 'sent' && <span aria-hidden="true">✓ </span>}
      {line.status === 'delivered' && <span aria-hidden="true">✓✓ </span>}
      {line.text}
    </div>
  );
}

type ChannelKind = Exclude<InboxKind, 'web'>;
const isChannel = (kind: InboxKind | undefined): kind is ChannelKind => !!kind && kind !== 'web' && kind in CHANNELS;

/** Per channel: the badge's class and test id, and who the customer is there. */
const CHANNELS: Record<ChannelKind, { tag: string; who: (c: Contact) => string | null | undefined; whoId: string; mono: boolean }> = {
  email: { tag: 'email', who: (c) => c.email, whoId: 'email-address', mono: false },
  wechat: { tag: 'wechat', who: (c) => c.external_id, whoId: 'wechat-openid', mono: true },
  twilio_sms: { tag: 'sms', who: (c) => c.phone ?? c.external_id, whoId: 'sms-phone', mono: true },
  aliyun_sms: { tag: 'sms', who: (c) => c.phone ?? c.external_id, whoId: 'sms-phone', mono: true },
  weibo: { tag: 'weibo', who: (c) => c.external_id, whoId: 'weibo-uid', mono: true },
  wecom: { tag: 'wecom', who: (c) => c.external_id, whoId: 'wecom-userid', mono: true },
  api: { tag: 'api', who: (c) => c.external_id, whoId: 'api-contact-id', mono: true },
};

/**
 * The header's channel badge ("Email", "WeChat", "SMS", "API") and who the customer is there: the contact's
 * address, WeChat OpenID, phone number or the id the integration gave them (the contact's, fetched once per
 * conversation).
 */
function ChannelBadge({ kind, contactId }: { kind: ChannelKind; contactId: string }) {
  const text = useT();
  const [who, setWho] = useState<string | null>(null);
  const channel = CHANNELS[kind];
  useEffect(() => {
    let live = true;
    setWho(null);
    rest.contact(contactId).then(
      ({ contact }) => live && setWho(channel.who(contact) ?? null),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [contactId, kind]);
  const label = {
    email: text.emailBadge,
    wechat: text.wechatBadge,
    wecom: text.wecomBadge,
    weibo: text.weiboBadge,
    twilio_sms: text.smsBadge,
    aliyun_sms: text.smsBadge,
    api: text.apiBadge,
  }[kind];
  const title = kind === 'wechat' ? `${text.openId}: ${who}` : kind === 'api' ? `${text.integrationId}: ${who}` : who ?? undefined;
  return (
    <>
      <span class={`channel-badge ${channel.tag}`} data-testid={`${channel.tag}-badge`}>
        {label}
      </span>
      {who && (
        <span class={`muted ellipsis ${channel.mono ? 'mono' : ''}`} data-testid={channel.whoId} title={title}>
          {who}
        </span>
      )}
    </>
  );
}

function Messages({ timeline, readMark, lang, kind }: { timeline: Timeline; readMark: string | null; lang: Lang; kind?: InboxKind }) {
  const text = useT();
  // Pushes for other conversations re-render the app; the same vnodes let Preact skip this list entirely.
  return useMemo(() => {
    const out = [];
    let prev: string | null = null;
    for (const m of timeline.messages) {
      if (!prev || !sameDay(prev, m.created_at)) {
        out.push(
          <div class="day-sep" key={`d-${m.seq}`}>
            <span>{dayLabel(m.created_at, lang, text)}</span>
          </div>,
        );
      }
      prev = m.created_at;
      const side = m.sender.kind === 'visitor' ? 'them' : m.sender.kind === 'system' ? 'system' : 'us';
      out.push(
        <div
          key={m.id}
          class={`msg ${side} ${m.private ? 'note' : ''}`}
          data-seq={m.seq}
          data-testid={m.private ? 'private-note' : 'message'}
        >
          <div class="msg-meta">
            <span class="msg-sender">{m.sender.name}</span>
            {m.private && <span class="note-label">{text.privateNote}</span>}
            <time dateTime={m.created_at} title={new Date(m.created_at).toLocaleString(lang)}>
              {hhmm(m.created_at, lang)}
            </time>
          </div>
          {m.email && m.email.subject && (
            <div class="msg-subject" data-testid="mail-subject">
              {m.email.subject}
            </div>
          )}
          <div class="bubble">{m.content}</div>
          {m.email && m.sender.kind === 'visitor' && <MailOriginal id={m.id} html={m.email.html} />}
          {m.attachments && m.attachments.length > 0 && (
            <ul class="attachments">
              {m.attachments.map((a) => (
                <li key={a.id}>
                  <a href={`/api/v1/attachments/${a.id}`} download={a.filename} data-testid="attachment">
                    {showsInline(a.content_type) && (
                      <img class="attachment-thumb" src={`/api/v1/attachments/${a.id}`} alt={a.filename} loading="lazy" data-testid="attachment-image" />
                    )}
                    {a.filename}
                  </a>{' '}
                  <span class="muted small">{fileSize(a.size)}</span>
                </li>
              ))}
            </ul>
          )}
          {m.delivery && <DeliveryStatus delivery={m.delivery} kind={kind} />}
          {m.id === readMark && (
            <div class="read-mark" data-testid="visitor-read">
              ✓✓ {text.read}
            </div>
          )}
        </div>,
      );
    }
    return out;
  }, [timeline.messages, readMark, lang, kind]);
}

/** A received mail's formatted version, shown on request in a sandboxed frame (the server's policy allows no
 * script and no remote image), and its source as a download. */
function MailOriginal({ id, html }: { id: string; html: boolean }) {
  const text = useT();
  const [open, setOpen] = useState(false);
  return (
    <div class="mail-original">
      {html && (
        <button type="button" class="link" onClick={() => setOpen(!open)} data-testid="mail-formatted-toggle">
          {open ? text.hideFormatted : text.showFormatted}
        </button>
      )}
      <a href={`/api/v1/messages/${id}/source`} download data-testid="mail-source">
        {text.originalMail}
      </a>
      {open && (
        <iframe
          class="mail-html"
          title={text.formattedMail}
          sandbox="allow-popups allow-popups-to-escape-sandbox"
          referrerpolicy="no-referrer"
          src={`/api/v1/messages/${id}/html`}
          data-testid="mail-html"
        />
      )}
    </div>
  );
}

function Pending({ id, timeline }: { id: string; timeline: Timeline }) {
  const text = useT();
  return (
    <>
      {timeline.pending.map((p) => (
        <div key={p.client_id} class={`msg us pending ${p.private ? 'note' : ''}`} data-testid="pending-message">
          <div class="bubble">{p.content}</div>
          {p.failed ? (
            <div class="send-failed" data-testid="send-failed">
              {text.notSent}: {p.failed}
              <button type="button" class="link" onClick={() => store.retry(id, p.client_id)} data-testid="send-retry">
                {text.retry}
              </button>
              <button type="button" class="link muted" onClick={() => store.discard(id, p.client_id)}>
                {text.dismiss}
              </button>
            </div>
          ) : (
            <div class="msg-meta muted">{text.sending}</div>
          )}
        </div>
      ))}
    </>
  );
}

function Actions({ c }: { c: Conversation }) {
  const text = useT();
  const me = store.me!;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [transfer, setTransfer] = useState(false);
  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const can = mayAct(c, me);
  const canReopen = c.status === 'closed' && can;
  // 409 when the chat already is a ticket: the server's message names its number ("already ticket #12").
  const toTicket = () => act(async () => store.navigate(`/app/tickets/${(await rest.convertToTicket(c.id)).ticket.id}`));
  return (
    <div class="conv-actions">
      {error && (
        <span class="form-error inline" role="alert" data-testid="action-error">
          {error}
        </span>
      )}
      <button type="button" class="btn" disabled={busy} onClick={toTicket} data-testid="convert-to-ticket">
        {text.convertToTicket}
      </button>
      {c.status !== 'closed' && can && (
        <>
          <button type="button" class="btn" disabled={busy} onClick={() => setTransfer(true)} data-testid="transfer-button">
            {text.transfer}
          </button>
          <button type="button" class="btn" disabled={busy} onClick={() => act(() => store.close(c.id))} data-testid="close-button">
            {text.close}
          </button>
        </>
      )}
      {canReopen && (
        <button type="button" class="btn primary" disabled={busy} onClick={() => act(() => store.reopen(c.id))} data-testid="reopen-button">
          {text.reopen}
        </button>
      )}
      {transfer && <TransferDialog conversation={c} onClose={() => setTransfer(false)} />}
    </div>
  );
}

export function ConversationView({ id }: { id: string }) {
  const text = useT();
  const c = store.conversations.get(id);
  const timeline = store.timelines.get(id);
  const error = store.timelineError.get(id);
  const typing = store.typing.get(id);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  // Follow new messages only when the agent is already at the bottom, so reading history is not interrupted.
  const count = (timeline?.messages.length ?? 0) + (timeline?.pending.length ?? 0) + (typing ? 1 : 0);
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [count, id]);
  useEffect(() => store.markRead(), [timeline]);

  if (!c) {
    return <div class="empty-state muted">{error ? <span class="form-error">{error}</span> : text.loading}</div>;
  }
  const name = contactName(c, text.visitor);
  const kind = store.inbox(c.inbox_id)?.kind;
  const readMark = timeline ? visitorReadMark(timeline, c.visitor_read_seq) : null;
  return (
    <div class="conversation" data-testid="conversation" data-conversation-id={c.id} data-status={c.status}>
      <div class="conv-header">
        <div class="conv-title">
          <h2 title={name}>{name}</h2>
          <div class="conv-sub">
            {isChannel(kind) && <ChannelBadge kind={kind} contactId={c.contact_id} />}
            <span class={`status-pill ${c.status}`} data-testid="conversation-status">
              {text.statuses[c.status]}
            </span>
            {c.status === 'queued' && c.queue_position && <span class="muted">{text.queuePosition(c.queue_position)}</span>}
            <span class="muted">
              {text.assignee}: <span data-testid="conversation-assignee">{c.assignee?.name ?? text.unassigned}</span>
            </span>
            {c.rating && (
              <Stars rating={c.rating} />
            )}
          </div>
        </div>
        <Actions c={c} />
      </div>
      <div
        class="messages"
        ref={scroller}
        role="log"
        // A thumbnail loading grows the list after the scroll; someone following the bottom keeps following it.
        onLoadCapture={(e) => {
          if (stick.current) e.currentTarget.scrollTop = e.currentTarget.scrollHeight;
        }}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
        }}
      >
        {!timeline ? (
          error ? (
            <div class="empty-state">
              <p class="form-error">{error}</p>
              <button type="button" class="btn" onClick={() => void store.catchUp(id)}>
                {text.retry}
              </button>
            </div>
          ) : (
            <div class="empty-state muted">{text.loading}</div>
          )
        ) : (
          <>
            {timeline.messages.length === 0 && timeline.pending.length === 0 && <div class="empty-state muted">{text.noMessages}</div>}
            <Messages timeline={timeline} readMark={readMark} lang={store.lang} kind={kind} />
            <Pending id={id} timeline={timeline} />
          </>
        )}
        {c.rating?.comment && (
          <div class="rating-note">
            <span class="stars">{'★'.repeat(c.rating.score)}</span> {c.rating.comment}
          </div>
        )}
      </div>
      <div class="typing-line" aria-live="polite">
        {typing && (
          <span data-testid="visitor-typing">
            <span class="typing-dots" aria-hidden="true">
              <i />
              <i />
              <i />
            </span>
            {text.isTyping(typing.name)}
          </span>
        )}
      </div>
      <Composer conversation={c} />
    </div>
  );
}

/** 512 B, 12 KB, 3.4 MB. */
function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
