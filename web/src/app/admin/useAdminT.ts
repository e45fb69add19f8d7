// The admin screens' own words in the user's language (./i18n.ts), next to the workspace's (useT).
import { store } from '../socket';
import { adminT } from './i18n';

export const useAdminT = () => adminT(store.lang);
