// The three-column desk: conversation lists, the open conversation, the contact; plus new-assignment pops.
import { useT } from '../hooks';
import { contactName } from '../lists';
import { store } from '../socket';
import { ContactPanel } from './ContactPanel';
import { ConversationList } from './ConversationList';
import { ConversationView } from './ConversationView';

function Pops() {
  const text = useT();
  if (!store.pops.length) return null;
  return (
    <div class="pops" aria-live="polite">
      {store.pops.map((p) => (
        <div class="pop" key={p.key} data-testid="assignment-pop" data-conversation-id={p.conversation.id}>
          <button
            type="button"
            class="pop-body"
            onClick={() => {
              store.select(p.conversation.id);
              store.dismiss(p.key);
            }}
          >
            <strong>{text.newConversation(contactName(p.conversation, text.visitor))}</strong>
            <span class="muted">{text.clickToOpen}</span>
          </button>
          <button type="button" class="icon-btn" aria-label={text.dismiss} onClick={() => store.dismiss(p.key)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

export function Workspace() {
  const text = useT();
  const id = store.selectedId;
  const conversation = id ? store.conversations.get(id) : undefined;
  return (
    <main class="desk">
      <ConversationList />
      <section class="pane conversation-pane">
        {id ? (
          <ConversationView key={id} id={id} />
        ) : (
          <div class="empty-state">
            <div class="empty-icon" aria-hidden="true">
              {/* Drawn, not an emoji: support desks often lack a colour-emoji font. */}
              <svg viewBox="0 0 24 24" width="44" height="44" fill="currentColor">
                <path d="M12 3C6.5 3 2 6.6 2 11c0 2.4 1.3 4.6 3.4 6.1L4.5 21l4.3-2.3c1 .2 2.1.3 3.2.3 5.5 0 10-3.6 10-8S17.5 3 12 3z" />
              </svg>
            </div>
            <h2>{text.noConversation}</h2>
            <p class="muted">{text.noConversationHint}</p>
          </div>
        )}
      </section>
      <aside class="pane contact-pane">{conversation && <ContactPanel key={conversation.contact_id} conversation={conversation} />}</aside>
      <Pops />
    </main>
  );
}
