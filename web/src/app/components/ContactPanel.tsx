// The right column: who the visitor is (editable name, email, phone; a WeChat user's OpenID, the id an API
// integration gave them), where they are (browser, page, referrer, locale), their pre-chat fields, the same person's
// contacts on other channels (merged from here with "Merge with…", split again with Unlink) and the person's other
// conversations on every channel, each labelled with its channel.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, rest } from '../api';
import { fullDate, summariseUserAgent } from '../format';
import { useT } from '../hooks';
import { store } from '../socket';
import type { Contact, Conversation } from '../types';
import { Stars } from './Stars';

type Editable = 'name' | 'email' | 'phone';

function Field({ contact, field, label, onSaved }: { contact: Contact; field: Editable; label: string; onSaved: (c: Contact) => void }) {
  const text = useT();
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const current = contact[field] ?? '';

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const v = value.trim();
      // name cannot be cleared; email and phone can (null).
      const patch = field === 'name' ? { name: v } : { [field]: v || null };
      const { contact: next } = await rest.updateContact(contact.id, patch);
      onSaved(next);
      setEditing(false);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  if (editing) {
    return (
      <form class="field editing" onSubmit={save}>
        <label class="field-label" for={`contact-${field}`}>
          {label}
        </label>
        <input
          id={`contact-${field}`}
          value={value}
          autofocus
          onInput={(e) => setValue(e.currentTarget.value)}
          onKeyDown={(e) => e.key === 'Escape' && setEditing(false)}
          data-testid={`contact-${field}-input`}
        />
        {error && <div class="form-error small">{error}</div>}
        <div class="field-actions">
          <button type="submit" class="btn primary small" disabled={busy} data-testid={`contact-${field}-save`}>
            {busy ? text.saving : text.save}
          </button>
          <button type="button" class="btn small" onClick={() => setEditing(false)}>
            {text.cancel}
          </button>
        </div>
      </form>
    );
  }
  return (
    <div class="field">
      <span class="field-label">{label}</span>
      <button
        type="button"
        class="field-value editable"
        title={text.edit}
        onClick={() => {
          setValue(current);
          setEditing(true);
        }}
        data-testid={`contact-${field}`}
      >
        {current || <span class="muted">{text.notSet}</span>}
        <span class="edit-hint" aria-hidden="true">
          ✎
        </span>
      </button>
    </div>
  );
}

/** The channel an inbox is ("SMS", "Weibo", "Website chat"), by the inbox's id; empty when unknown. */
function channelOf(inboxId: string, text: ReturnType<typeof useT>): string {
  const kind = store.inbox(inboxId)?.kind;
  return kind ? (text.inboxKindTags[kind] ?? kind) : '';
}

/** Who else this customer is: a line per contact of theirs on another channel, with Unlink. */
function SamePerson({ contact, onChanged }: { contact: Contact; onChanged: () => void }) {
  const text = useT();
  const [linked, setLinked] = useState<Contact[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [q, setQ] = useState('');
  const [found, setFound] = useState<Contact[] | null>(null);
  const [busy, setBusy] = useState(false);
  const asked = useRef(0);
  useEffect(() => {
    setLinked(null);
    rest.person(contact.id).then(
      ({ contacts }) => setLinked(contacts),
      // An older server has no persons: the section stays empty rather than fail.
      () => setLinked([contact]),
    );
  }, [contact.id]);
  // The search, debounced: only the answer to the latest question is shown.
  useEffect(() => {
    const query = q.trim().slice(0, 100);
    if (!query) {
      setFound(null);
      return;
    }
    const n = ++asked.current;
    const timer = setTimeout(() => {
      rest.searchContacts(query).then(
        ({ contacts }) => n === asked.current && setFound(contacts),
        (e: ApiError) => n === asked.current && setError(e.message),
      );
    }, 300);
    return () => clearTimeout(timer);
  }, [q]);
  if (!linked) return <p class="muted small">{text.loading}</p>;
  const mine = new Set([contact.id, ...linked.map((c) => c.id)]);
  const others = linked.filter((c) => c.id !== contact.id);
  const results = found?.filter((c) => !mine.has(c.id)) ?? null;
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const detail = (c: Contact) => [c.email, c.phone, c.external_id !== c.phone ? c.external_id : null].filter(Boolean).join(' · ');
  return (
    <>
      {others.length === 0 ? (
        <p class="muted small">{text.noSamePerson}</p>
      ) : (
        <ul class="person-list" data-testid="same-person">
          {others.map((c) => (
            <li key={c.id} data-contact-id={c.id} data-testid="same-person-item">
              <div class="person-main">
                <span class="ellipsis">{c.name}</span>
                <span class="kind-tag">{channelOf(c.inbox_id, text)}</span>
              </div>
              {detail(c) && <div class="muted small ellipsis mono">{detail(c)}</div>}
              <button
                type="button"
                class="btn small"
                disabled={busy}
                onClick={() => confirm(text.confirmUnlink(c.name)) && run(async () => {
                  await rest.unlinkContact(c.id);
                  setLinked(linked.filter((x) => x.id !== c.id));
                })}
                data-testid="unlink-contact"
              >
                {text.unlink}
              </button>
            </li>
          ))}
        </ul>
      )}
      <label class="merge-search">
        <span class="field-label">{text.mergeWith}</span>
        <input type="search" value={q} placeholder={text.mergeSearch} maxLength={100} onInput={(e) => setQ(e.currentTarget.value)} data-testid="merge-search" />
      </label>
      {results && (
        results.length === 0 ? (
          <p class="muted small" data-testid="merge-none">{text.noMatches}</p>
        ) : (
          <ul class="person-list" data-testid="merge-results">
            {results.map((c) => (
              <li key={c.id} data-contact-id={c.id} data-testid="merge-result">
                <div class="person-main">
                  <span class="ellipsis">{c.name}</span>
                  <span class="kind-tag">{channelOf(c.inbox_id, text)}</span>
                </div>
                {detail(c) && <div class="muted small ellipsis mono">{detail(c)}</div>}
                <button
                  type="button"
                  class="btn small primary"
                  disabled={busy}
                  onClick={() => confirm(text.confirmMerge(contact.name, c.name)) && run(async () => {
                    const { contacts } = await rest.mergeContact(contact.id, c.id);
                    setLinked(contacts);
                    setQ('');
                  })}
                  data-testid="merge-contact"
                >
                  {text.merge}
                </button>
              </li>
            ))}
          </ul>
        )
      )}
      {error && <div class="form-error small" role="alert">{error}</div>}
    </>
  );
}

function Past({ contactId, currentId, version }: { contactId: string; currentId: string; version: number }) {
  const text = useT();
  const [items, setItems] = useState<Conversation[] | null>(null);
  useEffect(() => {
    // person_of: the conversations of every contact of this customer, on every channel.
    rest.conversations({ person_of: contactId, limit: '20' }).then(
      ({ conversations }) => setItems(conversations),
      // Plain agents may not be allowed to list a contact's history: then there is simply nothing to show.
      () => setItems([]),
    );
  }, [contactId, version, store.conversations.get(currentId)?.status]);
  if (!items) return <p class="muted small">{text.loading}</p>;
  const others = items.filter((c) => c.id !== currentId);
  if (others.length === 0) return <p class="muted small">{text.noPast}</p>;
  return (
    <ul class="past-list" data-testid="past-conversations">
      {others.map((c) => (
        <li key={c.id}>
          <button type="button" onClick={() => store.select(c.id)} data-conversation-id={c.id}>
            <span class="past-top">
              <span>{fullDate(c.created_at, store.lang)}</span>
              <span class="kind-tag" data-testid="past-channel">{channelOf(c.inbox_id, text)}</span>
              <span class={`status-pill ${c.status}`}>{text.statuses[c.status]}</span>
            </span>
            <span class="past-bottom muted small">
              <span class="ellipsis">{c.assignee?.name ?? text.unassigned}</span>
              {c.rating && (
                <Stars rating={c.rating} />
              )}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}

export function ContactPanel({ conversation }: { conversation: Conversation }) {
  const text = useT();
  const [contact, setContact] = useState<Contact | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    rest.contact(conversation.contact_id).then(
      ({ contact }) => setContact(contact),
      (e: ApiError) => setError(e.message),
    );
  }, [conversation.contact_id]);

  if (error) return <div class="contact-panel" data-testid="contact-panel"><p class="form-error">{error}</p></div>;
  if (!contact) return <div class="contact-panel muted" data-testid="contact-panel">{text.loading}</div>;

  const saved = (c: Contact) => {
    setContact(c);
    // The lists show the contact's name: update what is held until the next push brings it.
    for (const conv of store.conversations.values()) if (conv.contact_id === c.id) store.upsert({ ...conv, contact_name: c.name });
  };
  const a = contact.attributes ?? {};
  const fields = Object.entries(a.fields ?? {});
  return (
    <div class="contact-panel" data-testid="contact-panel">
      <div class="contact-head">
        <span class="avatar large" aria-hidden="true">
          {[...contact.name][0]?.toUpperCase()}
        </span>
        <div class="contact-head-text">
          <div class="contact-name" title={contact.name}>
            {contact.name}
          </div>
          <div class="muted small">{fullDate(contact.created_at, store.lang)}</div>
        </div>
      </div>
      <section>
        <h4>{text.contact}</h4>
        <Field contact={contact} field="name" label={text.name} onSaved={saved} />
        <Field contact={contact} field="email" label={text.email} onSaved={saved} />
        <Field contact={contact} field="phone" label={text.phone} onSaved={saved} />
      </section>
      <section class="facts">
        {contact.external_id && store.inbox(conversation.inbox_id)?.kind === 'wechat' && (
          <div class="field">
            <span class="field-label">{text.openId}</span>
            <span class="field-value mono" data-testid="contact-openid">
              {contact.external_id}
            </span>
          </div>
        )}
        {contact.external_id && store.inbox(conversation.inbox_id)?.kind === 'api' && (
          <div class="field">
            <span class="field-label">{text.integrationId}</span>
            <span class="field-value mono" data-testid="contact-integration-id">
              {contact.external_id}
            </span>
          </div>
        )}
        {a.page?.url && (
          <div class="field">
            <span class="field-label">{text.currentPage}</span>
            <a class="field-value link ellipsis" href={safeUrl(a.page.url)} target="_blank" rel="noopener noreferrer" title={a.page.url} data-testid="contact-page">
              {a.page.title || a.page.url}
            </a>
          </div>
        )}
        {a.referrer && (
          <div class="field">
            <span class="field-label">{text.referrer}</span>
            <a class="field-value link ellipsis" href={safeUrl(a.referrer)} target="_blank" rel="noopener noreferrer" title={a.referrer}>
              {a.referrer}
            </a>
          </div>
        )}
        {a.browser && (
          <div class="field">
            <span class="field-label">{text.browser}</span>
            <span class="field-value" title={a.browser} data-testid="contact-browser">
              {summariseUserAgent(a.browser, text.on)}
            </span>
          </div>
        )}
        {a.locale && (
          <div class="field">
            <span class="field-label">{text.locale}</span>
            <span class="field-value">{a.locale}</span>
          </div>
        )}
      </section>
      {fields.length > 0 && (
        <section>
          <h4>{text.customFields}</h4>
          {fields.map(([k, v]) => (
            <div class="field" key={k}>
              <span class="field-label">{k}</span>
              <span class="field-value">{String(v)}</span>
            </div>
          ))}
        </section>
      )}
      <section data-testid="person-section">
        <h4>{text.samePerson}</h4>
        <SamePerson contact={contact} onChanged={() => setVersion((v) => v + 1)} />
      </section>
      <section>
        <h4>{text.pastConversations}</h4>
        <Past contactId={contact.id} currentId={conversation.id} version={version} />
      </section>
    </div>
  );
}

/** Only web links become links: a javascript: URL reported by a page must never run in the workspace. */
function safeUrl(url: string): string | undefined {
  return /^https?:\/\//i.test(url) ? url : undefined;
}
