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
              💬
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
