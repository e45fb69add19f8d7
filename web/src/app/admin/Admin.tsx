// Admin screens (a lazily loaded chunk): agents, teams, inboxes and the widget, canned replies.
export function Admin() {
  return <div class="admin">…</div>;
}
