import { describe, expect, it } from 'vitest';
import type { OffboardResult, ReassignResult, User } from '../api/types';
import { applyOutcomes, applySummary, offboardSummary, reassignSummary, stepLine } from './results';

const user = (id: string, name: string): User => ({
  customerId: 'c1', id, userPrincipalName: `${id}@x.example`, displayName: name, mail: '', usageLocation: 'US', accountEnabled: true,
  department: '', officeLocation: '', city: '', country: '', businessPhones: [], status: 'active', changedAt: '', licensed: true,
  hasErrors: false, licences: [],
});

const reassign = (over: Partial<ReassignResult>): ReassignResult => ({
  skuId: 'sku', skuName: 'Visio Plan 2', done: true, fromHolds: false, fromRegained: false, toHolds: true, toError: '', fromError: '',
  message: 'Visio Plan 2 moved from Ada to Ben.', steps: [], from: user('a', 'Ada'), to: user('b', 'Ben'), notes: [], ...over,
});

describe('reassign summary', () => {
  it('says the seat moved, with each step and its request-id', () => {
    const s = reassignSummary(
      reassign({
        steps: [
          { action: 'licence.reassign.assign', userId: 'b', ok: true, error: '', requestId: 'r1' },
          { action: 'licence.reassign.remove', userId: 'a', ok: true, error: '', requestId: 'r2' },
        ],
      }),
      'Ada',
      'Ben',
    );
    expect(s).toEqual({
      level: 'ok',
      title: 'Visio Plan 2 moved from Ada to Ben.',
      lines: ['Now: Ben holds Visio Plan 2; Ada does not hold it.', 'Assign to Ben: done (request-id r1)', 'Remove from Ada: done (request-id r2)'],
    });
  });
  it('says A got the seat back when B could not get it', () => {
    const s = reassignSummary(
      reassign({
        done: false, toHolds: false, fromHolds: true, fromRegained: true, toError: 'no usage location',
        message: 'Ben could not get Visio Plan 2: no usage location. Ada got it back with the same add-ons.',
        steps: [
          { action: 'licence.reassign.remove', userId: 'a', ok: true, error: '', requestId: 'r1' },
          { action: 'licence.reassign.assign', userId: 'b', ok: false, error: 'no usage location', requestId: 'r2' },
          { action: 'licence.reassign.restore', userId: 'a', ok: true, error: '', requestId: 'r3' },
        ],
      }),
      'Ada',
      'Ben',
    );
    expect(s.level).toBe('failed');
    expect(s.title).toBe('Ben could not get Visio Plan 2: no usage location. Ada got it back with the same add-ons.');
    expect(s.lines).toEqual([
      'Now: Ben does not hold Visio Plan 2; Ada got it back.',
      'Remove from Ada: done (request-id r1)',
      'Assign to Ben: failed — no usage location (request-id r2)',
      'Give back to Ada: done (request-id r3)',
    ]);
  });
  it('flags two seats in use as partial, and words its own title without a message', () => {
    const s = reassignSummary(reassign({ done: false, toHolds: true, fromHolds: true, message: '', notes: ['check Ada'] }), 'Ada', 'Ben');
    expect(s.level).toBe('partial');
    expect(s.title).toBe('Ben did not get Visio Plan 2.');
    expect(s.lines).toContain('check Ada');
  });
  it('words every step, and unknown ones as they are', () => {
    expect(stepLine({ action: 'licence.reassign.undo', userId: 'b', ok: false, error: '', requestId: '' }, 'Ada', 'Ben')).toBe(
      'Take back from Ben: failed — no reason given',
    );
    expect(stepLine({ action: 'other' as never, userId: 'b', ok: true, error: '', requestId: '' }, 'Ada', 'Ben')).toBe('other: done');
  });
});

describe('offboard summary', () => {
  const base: OffboardResult = { user: user('a', 'Ada'), removed: [], keptViaGroup: [], requestId: '', notes: [] };
  it('lists what was removed and what stays via groups', () => {
    const s = offboardSummary(
      {
        ...base,
        removed: [{ skuId: 's1', name: 'Business Premium' }, { skuId: 's2', name: '' }],
        keptViaGroup: [{ skuId: 's3', name: 'Teams Phone', groups: [{ id: 'g1', name: 'Teams Phone users' }, { id: 'g2', name: '' }] }],
        requestId: 'r9',
      },
      'Ada',
    );
    expect(s).toEqual({
      level: 'ok',
      title: 'Offboarded Ada: 2 licences removed, 1 kept via groups.',
      lines: ['Removed: Business Premium, s2 (request-id r9).', 'Still held via Teams Phone users and g2: Teams Phone.'],
    });
  });
  it('says when nothing was held directly', () => {
    expect(offboardSummary(base, 'Ada').title).toBe('Ada held no licence directly: nothing removed.');
  });
});

describe('apply template results', () => {
  it('labels users by name and keeps the server message of a failure', () => {
    const items = applyOutcomes(
      {
        items: [
          { userId: 'a', outcome: 'ok', requestId: 'r1' },
          { userId: 'b', outcome: 'failed', code: 'conflict', reason: 'no_seats', error: 'No seats available for Visio' },
          { userId: 'c', outcome: 'failed' },
          { userId: 'D', outcome: 'unchanged' },
        ],
        summary: { ok: 1, unchanged: 1, failed: 2 },
      },
      new Map([['a', 'Ada'], ['b', 'Ben'], ['d', 'Dee']]),
    );
    expect(items).toEqual([
      { label: 'Ada', ok: true },
      { label: 'Ben', ok: false, message: 'No seats available for Visio' },
      { label: 'c', ok: false, message: 'no reason given' },
      { label: 'Dee', ok: true, message: 'had it already: nothing sent' },
    ]);
    const s = applySummary('Front desk', items);
    expect(s.level).toBe('partial');
    expect(s.title).toBe('Front desk: Applied to 2 of 4 users; 2 failed.');
    expect(s.lines).toEqual(['Ada: done', 'Ben: No seats available for Visio', 'c: no reason given', 'Dee: had it already: nothing sent']);
    expect(applySummary('T', [{ label: 'a', ok: true }]).level).toBe('ok');
    expect(applySummary('T', [{ label: 'a', ok: false, message: 'x' }]).level).toBe('failed');
  });
});
