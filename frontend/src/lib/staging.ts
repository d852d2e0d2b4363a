// Pure helpers of staging and onboarding: status labels, when the Staging tab refreshes itself, the onboarding
// form's checks, and when the onboarding's live view has seen every user through (stop polling).

import type { OnboardResult, Staging, StagingStatus } from '../api/types';
import { e164Problem } from './numbers';
import { parseTime } from './format';

/** How often the Staging tab refreshes while a row is active. */
export const STAGING_REFRESH_MS = 5000;
/** Most users one onboarding takes (the server's limit too). */
export const MAX_ONBOARD_USERS = 100;

/** Staging statuses in menu order, with labels. "active" (staged or provisioning) is the list's default filter. */
export const STAGING_FILTERS: ReadonlyArray<{ value: string; label: string }> = [
  { value: '', label: 'All' },
  { value: 'active', label: 'Active (staged or provisioning)' },
  { value: 'staged', label: 'Staged' },
  { value: 'provisioning', label: 'Provisioning' },
  { value: 'provisioned', label: 'Provisioned' },
  { value: 'failed', label: 'Failed' },
  { value: 'removed', label: 'Removed' },
];

const LABELS: Record<StagingStatus, string> = {
  staged: 'Staged',
  provisioning: 'Provisioning',
  provisioned: 'Provisioned',
  failed: 'Failed',
  removed: 'Removed',
};

/** The label of a staging status; an unknown one as it is. */
export function stagingStatusLabel(s: string | null | undefined): string {
  if (!s) return '—';
  return Object.prototype.hasOwnProperty.call(LABELS, s) ? LABELS[s as StagingStatus] : s;
}

/** The badge class of a staging status. */
export function stagingBadgeClass(s: string): string {
  switch (s) {
    case 'provisioned':
      return 'badge badge-ok';
    case 'failed':
      return 'badge badge-failed';
    case 'staged':
    case 'provisioning':
      return 'badge badge-running';
    default:
      return 'badge';
  }
}

/** Whether staging of a user has ended: provisioned, failed or removed. */
export function isFinal(status: string | null | undefined): boolean {
  return status === 'provisioned' || status === 'failed' || status === 'removed';
}

/** Whether staging is under way: staged or provisioning. */
export function isActive(status: string | null | undefined): boolean {
  return status === 'staged' || status === 'provisioning';
}

/** Whether the Staging tab should refresh itself: some row shown is still under way. */
export function shouldAutoRefresh(rows: readonly Pick<Staging, 'status'>[]): boolean {
  return rows.some((r) => isActive(r.status));
}

/** When a future moment is, from now: "now", "in 40 s", "in 3 min", "in 2 h"; "" when none. */
export function formatIn(iso: string | null | undefined, now: Date = new Date()): string {
  const d = parseTime(iso);
  if (!d) return '';
  const s = Math.round((d.getTime() - now.getTime()) / 1000);
  if (s <= 0) return 'due now';
  if (s < 60) return `in ${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `in ${m} min`;
  const h = Math.round(m / 60);
  if (h < 48) return `in ${h} h`;
  return `in ${Math.round(h / 24)} days`;
}

/** The number a staging ended with (or holds on the way): assigned, else reserved, else asked for. */
export function stagingNumber(s: Pick<Staging, 'assignedNumber' | 'reservedNumber' | 'number'>): string {
  return s.assignedNumber || s.reservedNumber || s.number || '';
}

/** The site a staging placed the user on (or was asked to). */
export function stagingSiteId(s: Pick<Staging, 'placedSiteId' | 'siteId'>): string {
  return s.placedSiteId || s.siteId || '';
}

// -- Onboarding

/**
 * The onboarding form. templateId "" = the site's template; siteId "" = by the sites' criteria; number "" = by the
 * site's number policy.
 */
export interface OnboardDraft {
  userIds: readonly string[];
  templateId: string;
  siteId: string;
  number: string;
}

/** Field → message for what the server would refuse. */
export function validateOnboard(d: OnboardDraft): Record<string, string> {
  const errs: Record<string, string> = {};
  if (d.userIds.length === 0) errs['userIds'] = 'Pick at least one user.';
  else if (d.userIds.length > MAX_ONBOARD_USERS) errs['userIds'] = `At most ${MAX_ONBOARD_USERS} users at a time.`;
  const n = d.number.trim();
  if (n !== '') {
    if (d.userIds.length > 1) errs['number'] = 'A number can be chosen only when onboarding one user.';
    else {
      const p = e164Problem(n);
      if (p) errs['number'] = p;
    }
  }
  return errs;
}

/** One user's line in the onboarding's live view. */
export interface OnboardRow {
  userId: string;
  name: string;
  /** What the onboarding request said for the user (null until it answered). */
  result: OnboardResult | null;
  /** The user's staging as last read (null until read, or when the user was not staged). */
  staging: Staging | null;
}

/** Where a user of an onboarding stands, in one word: the staging's status, else the request's. */
export function onboardStatus(r: OnboardRow): string {
  if (r.result && !r.result.staged) return 'failed';
  if (r.staging) return r.staging.status;
  return r.result?.status || (r.result ? 'staged' : 'pending');
}

/** Whether a user of an onboarding is through: not staged (refused), or staging ended. */
export function onboardRowDone(r: OnboardRow): boolean {
  if (!r.result) return false;
  if (!r.result.staged) return true;
  return r.staging !== null && isFinal(r.staging.status);
}

/** Whether the live view can stop polling: every user is through. */
export function onboardingDone(rows: readonly OnboardRow[]): boolean {
  return rows.length > 0 && rows.every(onboardRowDone);
}

/** The users to keep polling for: staged by the request and not through yet. */
export function usersToPoll(rows: readonly OnboardRow[]): string[] {
  return rows.filter((r) => r.result?.staged && !onboardRowDone(r)).map((r) => r.userId);
}

/**
 * How long to wait before the next poll: every 2 s for the first 2 minutes (the usual case in tests and small
 * tenants), then every 10 s, then every 30 s after 15 minutes (Teams can take hours; the page keeps watching).
 */
export function pollDelay(elapsedMs: number): number {
  if (elapsedMs < 2 * 60_000) return 2000;
  if (elapsedMs < 15 * 60_000) return 10_000;
  return 30_000;
}

/** The onboarding's summary: "2 of 3 provisioned, 1 failed" / "1 of 3 still in progress". */
export function onboardSummary(rows: readonly OnboardRow[]): string {
  const count = (s: string): number => rows.filter((r) => onboardStatus(r) === s).length;
  const provisioned = count('provisioned');
  const failed = count('failed');
  const removed = count('removed');
  const active = rows.length - provisioned - failed - removed;
  const parts = [`${provisioned} of ${rows.length} provisioned`];
  if (failed > 0) parts.push(`${failed} failed`);
  if (removed > 0) parts.push(`${removed} removed from staging`);
  if (active > 0) parts.push(`${active} in progress`);
  return parts.join(', ');
}
