// Loading a resource for an admin screen, with its error and a reload after each change.
import { useEffect, useState } from 'preact/hooks';

export function useLoad<T>(load: () => Promise<T>) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    load().then(
      (d) => {
        setData(d);
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  }, [n]);
  // version: remount rows after a reload, so inputs left showing a refused edit show the server's value again.
  return { data, error, version: n, reload: () => setN((x) => x + 1) };
}

/** Runs a write, returning the server's error message (or null) so the form can show it in place. */
export async function attempt(fn: () => Promise<unknown>): Promise<string | null> {
  try {
    await fn();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
