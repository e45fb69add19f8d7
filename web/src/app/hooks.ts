// Small hooks shared by the screens: re-render on store changes, and the current dictionary.
import { useEffect, useReducer } from 'preact/hooks';
import { t } from './i18n';
import { store } from './socket';

/** The app is small enough that one subscription at the root re-rendering the tree is the simplest correct thing. */
export function useStore() {
  const [, tick] = useReducer((n: number, _: undefined) => n + 1, 0);
  useEffect(() => {
    const off = store.subscribe(() => tick(undefined));
    tick(undefined); // changes made between the first render and this effect (e.g. boot without a token)
    return off;
  }, []);
  return store;
}

export const useT = () => t(store.lang);
