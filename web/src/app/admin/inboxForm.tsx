// What every channel inbox form shares (email, WeChat, SMS on Twilio, API, and the field-list kinds of
// ChannelInbox.tsx): the name and answering teams, the form's own settings and which fields are marked wrong, and
// the save that checks them first, then creates or updates the inbox and shows the server's refusal in place; with
// the card for the name and teams and the "Advanced" fold that show them. A form keeps only its channel's fields.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { rest } from '../api';
import { useT } from '../hooks';
import type { Inbox, InboxKind, Team } from '../types';
import { Field } from './parts';
import { TeamChecks } from './TeamChecks';
import { attempt } from './useLoad';

/** A form for a new inbox (inbox = null), shown in NewInbox, or for an edit of one, shown in its editor. */
export interface InboxFormProps {
  inbox: Inbox | null;
  teams: Team[];
  onSaved: (i: Inbox) => void;
  onCancel?: () => void;
}

/** An existing inbox's editor: its form beside what the provider needs and the connection state. */
export interface InboxEditorProps {
  inbox: Inbox;
  teams: Team[];
  onChanged: (i: Inbox) => void;
}

/** What a form tells the shared flow: `T` is its settings as it edits them, `K` the names of its fields. */
export interface InboxFormSpec<T, K extends string> {
  kind: InboxKind;
  inbox: Inbox | null;
  onSaved: (i: Inbox) => void;
  initial: () => T;
  /** The fields to mark before anything is sent (the name is one of them). */
  problems: (name: string, f: T, creating: boolean) => K[];
  /** The fields' words in "Please check: …" (a field without words shows as its key). */
  labels: Record<K, string>;
  /** The settings body the server takes. */
  settings: (f: T) => Record<string, unknown>;
  /** The field a refusal from the server is about, if it names one. */
  fieldOfError: (message: string) => K | null;
  /** The form with the secrets it sent emptied. */
  forget?: (f: T) => T;
  /** The fields tucked away under "Advanced", and whether it starts open (a setting there is not the default). */
  advanced?: { holds: (k: K) => boolean; open: (f: T) => boolean };
}

/** One inbox form's state and its save; the form renders it with NameAndTeams, its own fields and SaveBar. */
export function useInboxForm<T, K extends string>(spec: InboxFormSpec<T, K>) {
  const text = useT();
  const { inbox } = spec;
  const creating = !inbox;
  const [name, setName] = useState(inbox?.name ?? '');
  const [teamIds, setTeamIds] = useState(inbox?.teams ?? []);
  const [f, setF] = useState<T>(spec.initial);
  const [advanced, setAdvanced] = useState(() => !!spec.advanced?.open(f));
  const [invalid, setInvalid] = useState<(K | 'name')[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const bad = (k: K | 'name') => invalid.includes(k);
  const mark = (wrong: K[]) => {
    setInvalid(wrong);
    // A refused field must be seen to be fixed: one tucked away under "Advanced" opens it.
    if (spec.advanced && wrong.some(spec.advanced.holds)) setAdvanced(true);
  };
  // Typing into a field marked wrong takes its mark away; the message stays until the next save.
  const touched = (fixed: (K | 'name')[]) => {
    setSaved(false);
    if (fixed.some(bad)) setInvalid(invalid.filter((k) => !fixed.includes(k)));
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const wrong = spec.problems(name, f, creating);
    mark(wrong);
    setSaved(false);
    if (wrong.length) {
      setError(text.checkFields(wrong.map((k) => spec.labels[k] ?? k)));
      return;
    }
    setBusy(true);
    const err = await attempt(async () => {
      const body = { name: name.trim(), teams: teamIds, settings: spec.settings(f) };
      const { inbox: next } = inbox ? await rest.updateInbox(inbox.id, body) : await rest.createInbox({ kind: spec.kind, ...body });
      // What was typed is stored now: the secret boxes go back to "unchanged" rather than keep a secret on screen.
      if (spec.forget) setF(spec.forget);
      spec.onSaved(next);
    });
    setBusy(false);
    setError(err);
    setSaved(!err);
    const named = err ? spec.fieldOfError(err) : null;
    if (named) mark([named]);
  };

  /** A change to the settings, clearing the marks of the fields it fixes. */
  const change = (next: T | ((cur: T) => T), ...fixed: K[]) => {
    setF(next);
    touched(fixed);
  };

  return {
    creating,
    f,
    change,
    /** `change` for settings kept as an object: the keys given take their new values. */
    edit: (patch: Partial<T>, ...fixed: K[]) => change((cur) => ({ ...cur, ...patch }), ...fixed),
    bad,
    name,
    rename: (v: string) => {
      setName(v);
      touched(['name']);
    },
    teamIds,
    setTeams: (ids: string[]) => {
      setTeamIds(ids);
      setSaved(false);
    },
    advanced,
    setAdvanced,
    save,
    error,
    saved,
    busy,
  };
}

/** The card every inbox form starts with: the name and the teams that answer it, then anything the form adds. */
export function NameAndTeams({
  form,
  teams,
  testid,
  children,
}: {
  form: { name: string; rename: (v: string) => void; bad: (k: 'name') => boolean; teamIds: string[]; setTeams: (ids: string[]) => void };
  teams: Team[];
  testid: string;
  children?: ComponentChildren;
}) {
  const text = useT();
  return (
    <section class="card">
      <label class="row-label">
        {text.name}
        <input
          value={form.name}
          aria-invalid={form.bad('name') ? 'true' : undefined}
          class={form.bad('name') ? 'invalid' : undefined}
          onInput={(e) => form.rename(e.currentTarget.value)}
          data-testid={`${testid}-name`}
        />
      </label>
      <TeamChecks teams={teams} value={form.teamIds} onChange={form.setTeams} testid={`${testid}-team`} />
      {children}
    </section>
  );
}

/** The fold for what only a proxy or a test stand-in changes (the API base URL), open when the form says so. */
export function Advanced({ form, testid, children }: { form: { advanced: boolean; setAdvanced: (open: boolean) => void }; testid: string; children: ComponentChildren }) {
  const text = useT();
  return (
    <details class="card advanced" open={form.advanced} onToggle={(e) => form.setAdvanced(e.currentTarget.open)}>
      <summary data-testid={`${testid}-advanced`}>{text.advanced}</summary>
      {children}
    </details>
  );
}

/** "Advanced" holding only the provider's API base URL, for the forms that keep it as `api_base_url`. */
export function AdvancedBaseUrl({
  form,
  hint,
  testid,
}: {
  form: {
    advanced: boolean;
    setAdvanced: (open: boolean) => void;
    f: { api_base_url: string };
    edit: (patch: { api_base_url: string }, fixed: 'api_base_url') => void;
    bad: (k: 'api_base_url') => boolean;
  };
  hint: string;
  testid: string;
}) {
  const text = useT();
  return (
    <Advanced form={form} testid={testid}>
      <Field
        class="row-label"
        label={text.apiBaseUrl}
        type="url"
        value={form.f.api_base_url}
        onInput={(api_base_url) => form.edit({ api_base_url }, 'api_base_url')}
        bad={form.bad('api_base_url')}
        hint={hint}
        testid={`${testid}-api-base`}
      />
    </Advanced>
  );
}
