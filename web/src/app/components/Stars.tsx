// A visitor's satisfaction rating as five stars, with their comment on hover.
import type { Conversation } from '../types';

export function Stars({ rating }: { rating: NonNullable<Conversation['rating']> }) {
  return (
    <span class="stars" title={rating.comment ?? undefined}>
      {'★'.repeat(rating.score)}
      {'☆'.repeat(5 - rating.score)}
    </span>
  );
}
