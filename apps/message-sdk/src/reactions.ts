// Applying reaction deltas to the reactions a client shows (history reads give the full map).
import type { ReactionEvent, ReactionMap } from './protocol.js';

/**
 * The reactions after `event`: its user added to or removed from its emoji. Idempotent (a repeated
 * delta changes nothing); returns a new map, the given one untouched.
 */
export function applyReaction(reactions: ReactionMap, event: ReactionEvent): ReactionMap {
  const users = (reactions[event.emoji] ?? []).filter((u) => u !== event.userId);
  if (event.change === 'added') users.push(event.userId);
  const next: ReactionMap = { ...reactions };
  if (users.length > 0) next[event.emoji] = users;
  else delete next[event.emoji];
  return next;
}
