// What the ticket screens share: the agents and teams (for pickers and names), read once per visit and kept
// across screens, and a clock that ticks so relative due times stay true while a screen is open.
import { useEffect, useState } from 'preact/hooks';
import { rest } from '../api';
import type { Team, User } from '../types';

export interface Directory {
  users: User[];
  teams: Team[];
}

let cached: Directory = { users: [], teams: [] };

export function useDirectory(): Directory {
  const [dir, setDir] = useState(cached);
  useEffect(() => {
    Promise.all([rest.users().catch(() => ({ users: cached.users })), rest.teams().catch(() => ({ teams: cached.teams }))]).then(([u, t]) => {
      cached = { users: u.users, teams: t.teams };
      setDir(cached);
    });
  }, []);
  return dir;
}

export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
