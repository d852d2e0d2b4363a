// Pure helpers of the licence operations: add-on toggles ↔ disabledPlans, what can be known before a change is
// sent (seats, usage location, how the user holds the licence), and the words for results and audit records.
// The server stays the authority: these only say early what it would say anyway.

import type { Sku, User, UserLicence } from '../api/types';
import { formatCount } from './format';
import { licenceName, planName } from './users';

/** A service plan (add-on) of a SKU, as the SKU list or a user's licence gives it. */
export interface PlanRef {
  id: string;
  name: string;
  friendlyName: string;
}

/** Add-on toggles: service plan id → on. A plan that is not in the map counts as on. */
export type AddonToggles = Readonly<Record<string, boolean>>;

/** Plans by friendly name (then name, then id), without duplicates. */
export function sortPlans<T extends PlanRef>(plans: readonly T[] | null | undefined): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const p of plans ?? []) {
    if (!p.id || seen.has(p.id)) continue;
    seen.add(p.id);
    out.push(p);
  }
  return out.sort((a, b) => planName(a).localeCompare(planName(b)) || a.id.localeCompare(b.id));
}

/** The toggles of a new assignment: every add-on on. */
export function togglesAllOn(plans: readonly PlanRef[] | null | undefined): AddonToggles {
  return Object.fromEntries((plans ?? []).map((p) => [p.id, true]));
}

/** The toggles of a licence a user holds: each plan as it is now. */
export function togglesOf(l: Pick<UserLicence, 'plans'>): AddonToggles {
  return Object.fromEntries((l.plans ?? []).map((p) => [p.id, p.enabled]));
}

/** Whether a plan is on in the toggles (absent = on). */
export function isOn(toggles: AddonToggles, planId: string): boolean {
  return toggles[planId] !== false;
}

/** The toggles with one plan switched. */
export function setToggle(toggles: AddonToggles, planId: string, on: boolean): AddonToggles {
  return { ...toggles, [planId]: on };
}

/**
 * The `disabledPlans` to send for a SKU's plans and the toggles: the ids of the plans switched off, sorted.
 * Toggles of plans the SKU does not have are ignored (Graph would refuse them).
 */
export function disabledPlans(plans: readonly PlanRef[] | null | undefined, toggles: AddonToggles): string[] {
  const ids = new Set((plans ?? []).map((p) => p.id));
  return [...ids].filter((id) => !isOn(toggles, id)).sort();
}

/** The toggles for a list of disabled plans (every other plan of the SKU on). */
export function togglesFromDisabled(plans: readonly PlanRef[] | null | undefined, disabled: readonly string[] | null | undefined): AddonToggles {
  const off = new Set(disabled ?? []);
  return Object.fromEntries((plans ?? []).map((p) => [p.id, !off.has(p.id)]));
}

/** Whether two sets of toggles switch off the same plans of the SKU. */
export function sameAddons(plans: readonly PlanRef[] | null | undefined, a: AddonToggles, b: AddonToggles): boolean {
  const x = disabledPlans(plans, a);
  const y = disabledPlans(plans, b);
  return x.length === y.length && x.every((id, i) => id === y[i]);
}

/** e.g. `4 of 5 add-ons on; off: Microsoft Bookings` (names by friendly name). */
export function addonsSummary(plans: readonly PlanRef[] | null | undefined, toggles: AddonToggles): string {
  const list = sortPlans(plans);
  if (list.length === 0) return 'No add-ons';
  const off = list.filter((p) => !isOn(toggles, p.id));
  const head = `${list.length - off.length} of ${list.length} add-ons on`;
  return off.length > 0 ? `${head}; off: ${off.map(planName).join(', ')}` : head;
}

/** The name of a SKU: product name, part number, or id. */
export function skuName(k: Pick<Sku, 'name' | 'partNumber' | 'skuId'>): string {
  return k.name || k.partNumber || k.skuId;
}

/** A SKU in a menu: `Microsoft 365 Business Premium — 8 available`, `… — none available (2 over)`. */
export function skuOptionLabel(k: Pick<Sku, 'name' | 'partNumber' | 'skuId' | 'available'>): string {
  const n = k.available;
  const seats = n > 0 ? `${formatCount(n)} available` : n === 0 ? 'none available' : `none available (${formatCount(-n)} over)`;
  return `${skuName(k)} — ${seats}`;
}

/** How serious a pre-check is: `block` (the server will refuse), `warn` (it may), `info`. */
export type PrecheckLevel = 'block' | 'warn' | 'info';

export type PrecheckKind =
  | 'no_seats'
  | 'no_usage_location'
  | 'already_direct'
  | 'via_group'
  | 'user_removed'
  | 'account_disabled'
  | 'same_user'
  | 'over_assigned';

export interface Precheck {
  kind: PrecheckKind;
  level: PrecheckLevel;
  message: string;
}

type PrecheckUser = Pick<User, 'displayName' | 'userPrincipalName' | 'usageLocation' | 'status' | 'accountEnabled' | 'licences'>;
type PrecheckSku = Pick<Sku, 'skuId' | 'name' | 'partNumber' | 'active' | 'used' | 'available'>;

export function userName(u: Pick<User, 'displayName' | 'userPrincipalName'>): string {
  return u.displayName || u.userPrincipalName;
}

/** The groups a user gets a SKU from, by name (or id). */
export function groupNames(l: Pick<UserLicence, 'groups'> | undefined): string[] {
  return (l?.groups ?? []).map((g) => g.name || g.id);
}

/** A list in words: `A`, `A and B`, `A, B and C`. */
export function listWords(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** What the user's usage location check says (empty when it has one). */
function usageLocationCheck(u: PrecheckUser): Precheck[] {
  if ((u.usageLocation ?? '').trim() !== '') return [];
  return [
    {
      kind: 'no_usage_location',
      level: 'block',
      message: `${userName(u)} has no usage location: Microsoft 365 assigns no licence to a user without one. Set it in Microsoft 365, sync, then assign.`,
    },
  ];
}

function userStateChecks(u: PrecheckUser): Precheck[] {
  const out: Precheck[] = [];
  if (u.status !== 'active') {
    out.push({ kind: 'user_removed', level: 'block', message: `${userName(u)} has been removed from the tenant.` });
  } else if (!u.accountEnabled) {
    out.push({ kind: 'account_disabled', level: 'info', message: `${userName(u)}'s account is disabled: the licence still takes a seat.` });
  }
  return out;
}

/**
 * What is known before assigning a SKU to a user, from the stored SKU counts and user: no seats left, no usage
 * location, already held directly, held via a group, removed or disabled user. Blocking ones come first.
 */
export function assignPrechecks(u: PrecheckUser, k: PrecheckSku | undefined): Precheck[] {
  const out: Precheck[] = [...userStateChecks(u)];
  if (k) {
    const held = (u.licences ?? []).find((l) => l.skuId === k.skuId);
    if (held?.direct) {
      out.push({ kind: 'already_direct', level: 'block', message: `${userName(u)} already holds ${skuName(k)}: change its add-ons instead.` });
    } else if (held) {
      const groups = groupNames(held);
      out.push({
        kind: 'via_group',
        level: 'info',
        message: `${userName(u)} already gets ${skuName(k)} via ${groups.length > 1 ? 'groups' : 'group'} ${listWords(groups) || 'a group'}; a direct assignment is added next to it.`,
      });
    }
    if (k.available <= 0 && !held) {
      out.push({
        kind: 'no_seats',
        level: 'block',
        message:
          k.available < 0
            ? `No seats left in ${skuName(k)}: ${formatCount(k.used)} used of ${formatCount(k.active)} (over-assigned by ${formatCount(-k.available)}).`
            : `No seats left in ${skuName(k)}: all ${formatCount(k.active)} are in use.`,
      });
    }
  }
  out.push(...usageLocationCheck(u));
  return sortChecks(out);
}

/**
 * What is known before moving a licence from one user to another (`sku`: its stored counts, when loaded). On an
 * over-assigned SKU, the seat the old holder gives up does not make one free: if the new holder's assignment fails,
 * the old holder's cannot be given back either.
 */
export function reassignPrechecks(
  from: Pick<User, 'id'> & Partial<Pick<User, 'displayName' | 'userPrincipalName'>>,
  to: PrecheckUser & Pick<User, 'id'>,
  skuId: string,
  name: string,
  sku?: Pick<Sku, 'active' | 'used' | 'available'>,
): Precheck[] {
  if (to.id === from.id) return [{ kind: 'same_user', level: 'block', message: 'Choose another user: this one already holds the licence.' }];
  const out: Precheck[] = [...userStateChecks(to)];
  if (sku && sku.available < 0) {
    const fromName = from.displayName || from.userPrincipalName || 'the current holder';
    out.push({
      kind: 'over_assigned',
      level: 'warn',
      message: `${name} is over-assigned (${formatCount(sku.used)} used of ${formatCount(sku.active)}): the seat ${fromName} gives up does not free one, so if ${userName(to)} cannot get it, ${fromName} may not get it back.`,
    });
  }
  const held = (to.licences ?? []).find((l) => l.skuId === skuId);
  if (held?.direct) out.push({ kind: 'already_direct', level: 'block', message: `${userName(to)} already holds ${name}.` });
  else if (held) {
    out.push({ kind: 'via_group', level: 'info', message: `${userName(to)} already gets ${name} via group ${listWords(groupNames(held)) || 'a group'}.` });
  }
  out.push(...usageLocationCheck(to));
  return sortChecks(out);
}

const levelOrder: Record<PrecheckLevel, number> = { block: 0, warn: 1, info: 2 };

function sortChecks(cs: Precheck[]): Precheck[] {
  return cs.sort((a, b) => levelOrder[a.level] - levelOrder[b.level]);
}

/** Whether any pre-check says the server will refuse. */
export function blocked(cs: readonly Precheck[]): boolean {
  return cs.some((c) => c.level === 'block');
}

/** Why a licence cannot be removed directly, or null when it can (it is held directly). */
export function removeBlockedReason(l: Pick<UserLicence, 'direct' | 'groups'>): string | null {
  if (l.direct) return null;
  const groups = groupNames(l);
  if (groups.length === 0) return 'Not held directly: it cannot be removed here.';
  return `Held via ${groups.length > 1 ? 'groups' : 'group'} ${listWords(groups)}: remove the user from the group in Microsoft 365.`;
}

/** The licences offboarding removes (held directly) and those it leaves (held only via groups, with the groups). */
export function offboardPlan(ls: readonly UserLicence[] | null | undefined): { remove: UserLicence[]; keep: { licence: UserLicence; groups: string[] }[] } {
  const remove: UserLicence[] = [];
  const keep: { licence: UserLicence; groups: string[] }[] = [];
  for (const l of ls ?? []) {
    if (l.direct) remove.push(l);
    else keep.push({ licence: l, groups: groupNames(l) });
  }
  return { remove, keep };
}

/** How a multi-user operation went, per user. */
export interface ItemOutcome {
  /** Shown for the user (name or UPN). */
  label: string;
  ok: boolean;
  /** The server's message when it failed. */
  message?: string;
}

/** e.g. `Applied to 3 of 4 users; 1 failed.` */
export function outcomeSummary(verb: string, items: readonly ItemOutcome[]): string {
  const ok = items.filter((i) => i.ok).length;
  const failed = items.length - ok;
  if (items.length === 0) return `${verb} to no users.`;
  const head = `${verb} to ${ok} of ${items.length} ${items.length === 1 ? 'user' : 'users'}`;
  return failed > 0 ? `${head}; ${failed} failed.` : `${head}.`;
}

/** One licence in words: its name, with the add-ons it has off. */
export function licenceWithAddons(l: Pick<UserLicence, 'name' | 'partNumber' | 'skuId' | 'plans'>): string {
  const off = sortPlans((l.plans ?? []).filter((p) => !p.enabled));
  return off.length > 0 ? `${licenceName(l)} (off: ${off.map(planName).join(', ')})` : licenceName(l);
}
