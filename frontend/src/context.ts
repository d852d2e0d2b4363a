// What every view gets from the app shell.

import type { ApiClient } from './api/client';
import type { AuthConfig, Me } from './api/types';

export interface AppContext {
  api: ApiClient;
  /** The signed-in user (null only on the sign-in page). */
  me: Me | null;
  /** Sign-in configuration from /config.json, once loaded. */
  config: AuthConfig | null;
  /** Loads /config.json once (and points the API client at its apiUrl); later calls return the same config. */
  loadConfig(signal?: AbortSignal): Promise<AuthConfig>;
  /** Stores a token and goes to the page the user wanted. */
  signedIn(token: string): void;
  signOut(): void;
  /** Goes to a hash route, e.g. `#/customers`. */
  navigate(hash: string): void;
  /** A message for the sign-in page (e.g. "session ended"), taken once. */
  takeNotice(): string | null;
}

export interface ViewProps {
  app: AppContext;
  /** The element the view renders into. */
  root: HTMLElement;
  /** Aborted when the user leaves the view: stop polling and ignore late results. */
  signal: AbortSignal;
}
