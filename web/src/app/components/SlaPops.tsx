// SLA breach toasts for supervisors and admins, on every screen: a ticket missed a target; one click opens it.
import { useT } from '../hooks';
import { store } from '../socket';

export function SlaPops() {
  const text = useT();
  if (!store.slaPops.length) return null;
  return (
    <div class="pops sla-pops" aria-live="assertive">
      {store.slaPops.map((p) => (
        <div class="pop breach" key={p.key} data-testid="sla-breach-pop" data-ticket-id={p.ticket.id}>
          <button
            type="button"
            class="pop-body"
            onClick={() => {
              store.navigate(`/app/tickets/${p.ticket.id}`);
              store.dismissBreach(p.key);
            }}
          >
            <strong>{text.slaBreachPop(p.ticket.number, text.slaTargets[p.target] ?? p.target)}</strong>
            <span class="ellipsis">{p.ticket.subject}</span>
          </button>
          <button type="button" class="icon-btn" aria-label={text.dismiss} onClick={() => store.dismissBreach(p.key)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
