// Pure helpers of the users list and the user page: list state in the hash, licence chips and labels, error
// summaries, and filling a page from a server that may hand out short pages.

import type { UserFilter, UserLicence, UserPlan, UserStatus } from '../api/types';

/** The licence errors Graph reports (the API passes them on as strings; `None` when the licence is fine). */
export type LicenceError =
  | 'None'
  | 'CountViolation'
  | 'MutuallyExclusiveViolation'
  | 'DependencyViolation'
  | 'ProhibitedInUsageLocationViolation'
  | 'UniquenessViolation'
  | 'Other';

/** The states of a user's licence (a string in the API). */
export type LicenceState = 'Active' | 'ActiveWithError' | 'Disabled' | 'Error';

/** The `filter` choices of the users list, in menu order ("" = every active user). */
export const USER_FILTERS: ReadonlyArray<{ value: UserFilter | ''; label: string }> = [
  { value: '', label: 'All active users' },
  { value: 'unlicensed', label: 'Unlicensed' },
  { value: 'errors', label: 'With licence errors' },
  { value: 'disabled', label: 'Disabled accounts' },
  { value: 'removed', label: 'Removed from the tenant' },
];

const FILTER_VALUES: ReadonlySet<string> = new Set(USER_FILTERS.map((f) => f.value).filter((v) => v !== ''));

/** Narrows a string to a UserFilter, or "" when it is not one. */
export function asUserFilter(s: string | null | undefined): UserFilter | '' {
  return s && FILTER_VALUES.has(s) ? (s as UserFilter) : '';
}

/** What the users list shows: search text, licence (skuId) and filter. Kept in the hash after `?`. */
export interface UsersListState {
  q: string;
  sku: string;
  filter: UserFilter | '';
}

export const EMPTY_LIST_STATE: UsersListState = { q: '', sku: '', filter: '' };

/** Reads the list state from a location hash such as `#/customers/c1/users?q=ad&filter=errors`. */
export function parseListState(hash: string): UsersListState {
  const i = hash.indexOf('?');
  if (i < 0) return { ...EMPTY_LIST_STATE };
  const p = new URLSearchParams(hash.slice(i + 1));
  return { q: p.get('q') ?? '', sku: (p.get('sku') ?? '').trim(), filter: asUserFilter(p.get('filter')) };
}

/** The hash of a customer's users list with a state; the query is left out when everything is empty. */
export function listHash(customerId: string, st: UsersListState): string {
  const p = new URLSearchParams();
  const q = st.q.trim();
  if (q) p.set('q', q);
  if (st.sku) p.set('sku', st.sku);
  if (st.filter) p.set('filter', st.filter);
  const s = p.toString();
  return `#/customers/${encodeURIComponent(customerId)}/users${s ? `?${s}` : ''}`;
}

/** What each licence error means, for tooltips and the user page. */
export const LICENCE_ERROR_TEXT: Readonly<Record<LicenceError, string>> = {
  None: 'No error',
  CountViolation: 'Not enough licences: every seat of the SKU is in use',
  MutuallyExclusiveViolation: 'Conflicts with another licence the user holds',
  DependencyViolation: 'Needs another licence the user does not hold',
  ProhibitedInUsageLocationViolation: "Not available in the user's usage location",
  UniquenessViolation: 'A unique attribute (such as the proxy address) clashes with another user',
  Other: 'Another licensing error',
};

/** The description of a licence error code; unknown codes are described generically. */
export function describeLicenceError(code: string): string {
  return Object.prototype.hasOwnProperty.call(LICENCE_ERROR_TEXT, code)
    ? LICENCE_ERROR_TEXT[code as LicenceError]
    : 'A licensing error Seatwise does not know';
}

/** Whether a licence is in error (an error code, or a state that says so). */
export function licenceInError(l: Pick<UserLicence, 'error' | 'state'>): boolean {
  return (l.error !== undefined && l.error !== null && l.error !== 'None') || l.state === 'Error' || l.state === 'ActiveWithError';
}

const STATE_TEXT: Readonly<Record<LicenceState, string>> = {
  Active: 'Active',
  ActiveWithError: 'Active with error',
  Disabled: 'Disabled',
  Error: 'Error',
};

export function licenceStateLabel(s: string): string {
  return Object.prototype.hasOwnProperty.call(STATE_TEXT, s) ? STATE_TEXT[s as LicenceState] : s || '—';
}

/** The name to show for a licence: its product name, else its part number, else its SKU id. */
export function licenceName(l: Pick<UserLicence, 'name' | 'partNumber' | 'skuId'>): string {
  return l.name || l.partNumber || l.skuId;
}

/** How a licence is held: `Direct`, `Via group <name or id>` per group; both when it is both. */
export function heldBy(l: Pick<UserLicence, 'direct' | 'groups'>): string[] {
  const out: string[] = [];
  if (l.direct) out.push('Direct');
  for (const g of l.groups ?? []) out.push(`Via group ${g.name || g.id}`);
  return out.length > 0 ? out : ['Unknown'];
}

/** A licence as a chip in the users list. */
export interface LicenceChip {
  text: string;
  /** Tooltip: part number, how it is held, and the error when there is one. */
  title: string;
  className: string;
  /** Held only through groups (not directly). */
  viaGroup: boolean;
  error: boolean;
}

export function licenceChip(l: UserLicence): LicenceChip {
  const viaGroup = !l.direct && (l.groups ?? []).length > 0;
  const error = licenceInError(l);
  const cls = ['chip'];
  if (viaGroup) cls.push('chip-group');
  if (error) cls.push('chip-error');
  const parts = [l.partNumber && l.partNumber !== l.name ? `${licenceName(l)} (${l.partNumber})` : licenceName(l), heldBy(l).join(', ')];
  if (error) parts.push(`${l.error && l.error !== 'None' ? l.error : licenceStateLabel(l.state)}: ${describeLicenceError(l.error)}`);
  return { text: licenceName(l), title: parts.join(' · '), className: cls.join(' '), viaGroup, error };
}

/** Licences in display order: by name. */
export function sortLicences<T extends Pick<UserLicence, 'name' | 'partNumber' | 'skuId'>>(ls: readonly T[] | null | undefined): T[] {
  return [...(ls ?? [])].sort((a, b) => licenceName(a).localeCompare(licenceName(b)));
}

/** One entry of the per-type error summary. */
export interface ErrorCount {
  code: string;
  count: number;
  /** e.g. `CountViolation 2` */
  label: string;
  title: string;
}

/** The errors-by-type map as a list: zero counts left out, most frequent first, then by code. */
export function errorSummary(byType: Record<string, number> | null | undefined): ErrorCount[] {
  return Object.entries(byType ?? {})
    .filter(([, n]) => typeof n === 'number' && Number.isFinite(n) && n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([code, count]) => ({ code, count, label: `${code} ${count}`, title: describeLicenceError(code) }));
}

const STATUS_TEXT: Readonly<Record<UserStatus, string>> = {
  active: 'Active',
  softDeleted: 'Removed (soft-deleted)',
  deleted: 'Removed (deleted)',
};

export function userStatusLabel(s: string): string {
  return Object.prototype.hasOwnProperty.call(STATUS_TEXT, s) ? STATUS_TEXT[s as UserStatus] : s || '—';
}

export function accountLabel(enabled: boolean): string {
  return enabled ? 'Enabled' : 'Disabled';
}

/** Plans by friendly name (falling back to the plan name), and how many are on. */
export function planList(plans: readonly UserPlan[] | null | undefined): { plans: UserPlan[]; on: number; off: number } {
  const list = [...(plans ?? [])].sort((a, b) => planName(a).localeCompare(planName(b)));
  const on = list.filter((p) => p.enabled).length;
  return { plans: list, on, off: list.length - on };
}

export function planName(p: Pick<UserPlan, 'friendlyName' | 'name' | 'id'>): string {
  return p.friendlyName || p.name || p.id;
}

/** A page as the server returns it. */
export interface RawPage<T> {
  items: T[] | null;
  nextCursor: string | null;
}

/**
 * Fetches one screenful: the server may return short (even empty) pages while nextCursor is non-empty, so this
 * keeps asking for the rest until `limit` items, the end, or `maxRequests` requests. nextCursor is where the next
 * screenful starts ("" at the end).
 */
export async function fillPage<T>(
  fetchPage: (cursor: string, limit: number) => Promise<RawPage<T>>,
  cursor: string,
  limit: number,
  maxRequests = 5,
): Promise<{ items: T[]; nextCursor: string; requests: number }> {
  const items: T[] = [];
  let cur = cursor;
  let requests = 0;
  for (;;) {
    const page = await fetchPage(cur, limit - items.length);
    requests++;
    items.push(...(page.items ?? []));
    const next = page.nextCursor ?? '';
    if (next === '' || items.length >= limit || requests >= Math.max(1, maxRequests)) {
      return { items, nextCursor: next, requests };
    }
    if (next === cur) throw new Error('the server returned the same cursor again');
    cur = next;
  }
}
