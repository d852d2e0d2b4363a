import { describe, expect, it } from 'vitest';
import type { Staging, StagingStatus } from '../api/types';
import {
  formatIn,
  isActive,
  isFinal,
  onboardingDone,
  onboardRowDone,
  onboardStatus,
  onboardSummary,
  pollDelay,
  shouldAutoRefresh,
  stagingBadgeClass,
  stagingNumber,
  stagingSiteId,
  stagingStatusLabel,
  usersToPoll,
  validateOnboard,
  type OnboardRow,
} from './staging';

function staging(status: StagingStatus, extra: Partial<Staging> = {}): Staging {
  return {
    customerId: 'c', userId: 'u', userPrincipalName: 'u@x', displayName: 'U', status, reason: 'onboarding', stagedAt: '', deadline: '',
    attempts: 0, lastResult: '', siteId: '', templateId: '', number: '', placedSiteId: '', templateApplied: false, reservedNumber: '',
    assignedNumber: '', actor: '', version: 1, updatedAt: '', ...extra,
  };
}

describe('staging statuses', () => {
  it('labels and classes', () => {
    expect(stagingStatusLabel('provisioned')).toBe('Provisioned');
    expect(stagingStatusLabel('odd')).toBe('odd');
    expect(stagingStatusLabel('')).toBe('—');
    expect(stagingBadgeClass('failed')).toBe('badge badge-failed');
    expect(stagingBadgeClass('staged')).toBe('badge badge-running');
    expect(stagingBadgeClass('removed')).toBe('badge');
  });
  it('final and active', () => {
    for (const s of ['provisioned', 'failed', 'removed']) expect([isFinal(s), isActive(s)]).toEqual([true, false]);
    for (const s of ['staged', 'provisioning']) expect([isFinal(s), isActive(s)]).toEqual([false, true]);
    expect(isFinal(undefined)).toBe(false);
  });
  it('refreshes the tab only while a row is active', () => {
    expect(shouldAutoRefresh([])).toBe(false);
    expect(shouldAutoRefresh([{ status: 'provisioned' }, { status: 'failed' }])).toBe(false);
    expect(shouldAutoRefresh([{ status: 'provisioned' }, { status: 'provisioning' }])).toBe(true);
  });
  it('says when the next check is', () => {
    const now = new Date('2025-01-01T00:00:00Z');
    expect(formatIn('2025-01-01T00:00:30Z', now)).toBe('in 30 s');
    expect(formatIn('2025-01-01T00:05:00Z', now)).toBe('in 5 min');
    expect(formatIn('2025-01-01T03:00:00Z', now)).toBe('in 3 h');
    expect(formatIn('2025-01-05T00:00:00Z', now)).toBe('in 4 days');
    expect(formatIn('2024-12-31T23:59:00Z', now)).toBe('due now');
    expect(formatIn(null, now)).toBe('');
  });
  it('picks the number and site of a staging', () => {
    expect(stagingNumber({ assignedNumber: '+1', reservedNumber: '+2', number: '+3' })).toBe('+1');
    expect(stagingNumber({ assignedNumber: '', reservedNumber: '+2', number: '+3' })).toBe('+2');
    expect(stagingNumber({ assignedNumber: '', reservedNumber: '', number: '' })).toBe('');
    expect(stagingSiteId({ placedSiteId: 'p', siteId: 's' })).toBe('p');
    expect(stagingSiteId({ placedSiteId: '', siteId: 's' })).toBe('s');
  });
});

describe('the onboarding form', () => {
  it('needs users (the template and site may be the site’s and the criteria’s)', () => {
    expect(validateOnboard({ userIds: [], templateId: 't', siteId: '', number: '' })).toEqual({ userIds: 'Pick at least one user.' });
    expect(validateOnboard({ userIds: ['a'], templateId: 't', siteId: '', number: '' })).toEqual({});
    expect(validateOnboard({ userIds: ['a'], templateId: '', siteId: '', number: '' })).toEqual({});
    expect(validateOnboard({ userIds: Array.from({ length: 101 }, (_, i) => `u${i}`), templateId: 't', siteId: '', number: '' })).toHaveProperty('userIds');
  });
  it('takes a number only with one user, and only E.164', () => {
    expect(validateOnboard({ userIds: ['a', 'b'], templateId: 't', siteId: 's', number: '+441632960001' })).toEqual({ number: expect.stringMatching(/only when onboarding one user/) });
    expect(validateOnboard({ userIds: ['a'], templateId: 't', siteId: 's', number: '01632' })).toEqual({ number: expect.stringMatching(/Start with \+/) });
    expect(validateOnboard({ userIds: ['a'], templateId: 't', siteId: 's', number: '+44 1632 960001' })).toEqual({});
  });
});

describe('the onboarding live view', () => {
  const row = (userId: string, result: OnboardRow['result'], st: Staging | null = null): OnboardRow => ({ userId, name: userId, result, staging: st });

  it('keeps polling until every staged user is provisioned, failed or removed', () => {
    const rows = [
      row('a', { userId: 'a', staged: true, status: 'staged' }, staging('staged')),
      row('b', { userId: 'b', staged: false, status: 'failed', error: 'no seats' }),
      row('c', { userId: 'c', staged: true, status: 'staged' }),
    ];
    expect(onboardingDone(rows)).toBe(false);
    expect(usersToPoll(rows)).toEqual(['a', 'c']);
    expect(onboardRowDone(rows[1] as OnboardRow)).toBe(true);
    const later = [
      row('a', rows[0]!.result, staging('provisioned', { assignedNumber: '+1' })),
      rows[1]!,
      row('c', rows[2]!.result, staging('provisioning')),
    ];
    expect(onboardingDone(later)).toBe(false);
    expect(usersToPoll(later)).toEqual(['c']);
    const done = [later[0]!, later[1]!, row('c', rows[2]!.result, staging('failed', { error: 'did not appear' }))];
    expect(onboardingDone(done)).toBe(true);
    expect(usersToPoll(done)).toEqual([]);
  });
  it('is not done before the request answered, nor with no users', () => {
    expect(onboardingDone([])).toBe(false);
    expect(onboardingDone([row('a', null)])).toBe(false);
    expect(onboardStatus(row('a', null))).toBe('pending');
  });
  it('says where each user stands, and sums up', () => {
    expect(onboardStatus(row('a', { userId: 'a', staged: true, status: 'staged' }))).toBe('staged');
    expect(onboardStatus(row('a', { userId: 'a', staged: true, status: '' }))).toBe('staged');
    expect(onboardStatus(row('a', { userId: 'a', staged: true, status: 'staged' }, staging('provisioning')))).toBe('provisioning');
    expect(onboardStatus(row('a', { userId: 'a', staged: false, status: 'staged', error: 'x' }))).toBe('failed');
    const rows = [
      row('a', { userId: 'a', staged: true, status: 'staged' }, staging('provisioned')),
      row('b', { userId: 'b', staged: false, status: 'failed' }),
      row('c', { userId: 'c', staged: true, status: 'staged' }, staging('staged')),
    ];
    expect(onboardSummary(rows)).toBe('1 of 3 provisioned, 1 failed, 1 in progress');
    expect(onboardSummary(rows.slice(0, 1))).toBe('1 of 1 provisioned');
  });
  it('polls quickly at first, then less often', () => {
    expect(pollDelay(0)).toBe(2000);
    expect(pollDelay(119_999)).toBe(2000);
    expect(pollDelay(120_000)).toBe(10_000);
    expect(pollDelay(60 * 60_000)).toBe(30_000);
  });
});
