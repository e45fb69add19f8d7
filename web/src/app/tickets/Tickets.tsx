// The Tickets screens (a lazily loaded chunk): the filtered list at /app/tickets and one ticket at
// /app/tickets/<id>. Both read the agents and teams once, for their pickers and names.
import { store } from '../socket';
import { ticketIdFromPath } from '../tickets';
import { useDirectory } from './directory';
import { TicketDetail } from './TicketDetail';
import { TicketList } from './TicketList';
import './tickets.css';

export function Tickets() {
  const dir = useDirectory();
  const id = ticketIdFromPath(store.path);
  return <main class="tickets-page">{id ? <TicketDetail key={id} id={id} dir={dir} /> : <TicketList dir={dir} />}</main>;
}
