// Canned replies: shared ones (admins write them) and the user's own, with inline edits.
import { useState } from 'preact/hooks';
import { rest } from '../api';
import { useT } from '../hooks';
import { store } from '../socket';
import type { CannedReply } from '../types';
import { attempt, useLoad } from './useLoad';

function Row({ r, onChanged, setError }: { r: CannedReply; onChanged: () => void; setError: (e: string | null) => void }) {
  const text = useT();
  const [shortcut, setShortcut] = useState(r.shortcut);
  const [content, setContent] = useState(r.content);
  const dirty = shortcut !== r.shortcut || content !== r.content;
  const editable = !r.shared || store.me?.role === 'admin';
  const write = async (fn: () => Promise<unknown>) => {
    const err = await attempt(fn);
    setError(err);
    onChanged();
  };
  return (
    <tr data-testid="canned-row" data-canned-id={r.id}>
      <td>
        <input class="full" value={shortcut} disabled={!editable} onInput={(e) => setShortcut(e.currentTarget.value)} aria-label={text.shortcut} />
      </td>
      <td>
        <textarea class="full" rows={2} value={content} disabled={!editable} onInput={(e) => setContent(e.currentTarget.value)} aria-label={text.content} />
      </td>
      <td>{r.shared ? <span class="tag blue">{text.shared}</span> : <span class="tag">{text.personal}</span>}</td>
      <td class="right nowrap">
        {editable && (
          <>
            <button
              type="button"
              class="btn small primary"
              disabled={!dirty}
              onClick={() =>
                write(() =>
                  rest.updateCanned(r.id, {
                    ...(shortcut !== r.shortcut ? { shortcut } : {}),
                    ...(content !== r.content ? { content } : {}),
                  }),
                )
              }
            >
              {text.save}
            </button>{' '}
            <button type="button" class="btn small danger" onClick={() => confirm(text.confirmDelete(`/${r.shortcut}`)) && write(() => rest.deleteCanned(r.id))}>
              {text.delete}
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

export function Canned() {
  const text = useT();
  const { data, error, reload } = useLoad(() => rest.cannedReplies());
  const [f, setF] = useState({ shortcut: '', content: '', shared: false });
  const [formError, setFormError] = useState<string | null>(null);
  const [rowError, setRowError] = useState<string | null>(null);
  return (
    <div class="admin-section">
      {(error || rowError) && (
        <div class="form-error" role="alert">
          {rowError ?? error}
        </div>
      )}
      <div class="card flush">
        <table class="table">
          <thead>
            <tr>
              <th style="width: 20%">{text.shortcut}</th>
              <th>{text.content}</th>
              <th style="width: 90px" />
              <th style="width: 150px" />
            </tr>
          </thead>
          <tbody>
            {!data ? (
              <tr>
                <td colSpan={4} class="muted">
                  {text.loading}
                </td>
              </tr>
            ) : data.canned_replies.length === 0 ? (
              <tr>
                <td colSpan={4} class="muted">
                  {text.noCanned}
                </td>
              </tr>
            ) : (
              data.canned_replies.map((r) => <Row key={`${r.id}-${r.updated_at}`} r={r} onChanged={reload} setError={setRowError} />)
            )}
          </tbody>
        </table>
      </div>
      <form
        class="card form-grid"
        onSubmit={async (e) => {
          e.preventDefault();
          const err = await attempt(() => rest.createCanned({ ...f, shortcut: f.shortcut.trim().replace(/^\//, '') }));
          setFormError(err);
          if (!err) setF({ shortcut: '', content: '', shared: false });
          reload();
        }}
      >
        <h3>{text.newCanned}</h3>
        <label>
          {text.shortcut}
          <input required value={f.shortcut} onInput={(e) => setF({ ...f, shortcut: e.currentTarget.value })} data-testid="new-canned-shortcut" />
        </label>
        <label class="span-2">
          {text.content}
          <textarea required rows={3} value={f.content} onInput={(e) => setF({ ...f, content: e.currentTarget.value })} data-testid="new-canned-content" />
        </label>
        {store.me?.role === 'admin' && (
          <label class="check">
            <input type="checkbox" checked={f.shared} onChange={(e) => setF({ ...f, shared: e.currentTarget.checked })} data-testid="new-canned-shared" />
            {text.sharedHint}
          </label>
        )}
        <div class="form-end">
          <button type="submit" class="btn primary" data-testid="new-canned-submit">
            {text.create}
          </button>
        </div>
        {formError && <div class="form-error span-all">{formError}</div>}
      </form>
    </div>
  );
}
