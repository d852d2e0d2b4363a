import { describe, expect, it } from 'vitest';
import { href, parseRoute, type Route } from './router';

describe('router', () => {
  it('parses routes', () => {
    expect(parseRoute('')).toEqual({ name: 'customers' });
    expect(parseRoute('#/')).toEqual({ name: 'customers' });
    expect(parseRoute('#/signin')).toEqual({ name: 'signin' });
    expect(parseRoute('#/customers')).toEqual({ name: 'customers' });
    expect(parseRoute('#/customers/c%2F1')).toEqual({ name: 'customer', id: 'c/1' });
    expect(parseRoute('#/licences?x=1')).toEqual({ name: 'licences' });
    expect(parseRoute('#/dashboard')).toEqual({ name: 'dashboard' });
    expect(parseRoute('#/dashboard?range=90d')).toEqual({ name: 'dashboard' });
    expect(parseRoute('#/dashboard/x')).toMatchObject({ name: 'notfound' });
    expect(href({ name: 'dashboard' })).toBe('#/dashboard');
    expect(parseRoute('#/exports')).toEqual({ name: 'exports' });
    expect(parseRoute('#/exports?month=2026-10')).toEqual({ name: 'exports' });
    expect(parseRoute('#/exports/2026-10')).toMatchObject({ name: 'notfound' });
    expect(href({ name: 'exports' })).toBe('#/exports');
    expect(parseRoute('#/nope')).toEqual({ name: 'notfound', path: '/nope' });
    expect(parseRoute('#/customers/%E0%A4%A')).toMatchObject({ name: 'notfound' });
  });

  it('parses the customer tabs', () => {
    expect(parseRoute('#/customers/c1/licences')).toEqual({ name: 'customer', id: 'c1' });
    expect(parseRoute('#/customers/c1/users')).toEqual({ name: 'customer', id: 'c1', tab: 'users' });
    expect(parseRoute('#/customers/c1/users?q=ad&filter=errors')).toEqual({ name: 'customer', id: 'c1', tab: 'users' });
    expect(parseRoute('#/customers/c1/syncs')).toEqual({ name: 'customer', id: 'c1', tab: 'syncs' });
    expect(parseRoute('#/customers/c1/templates')).toEqual({ name: 'customer', id: 'c1', tab: 'templates' });
    expect(parseRoute('#/customers/c1/audit')).toEqual({ name: 'customer', id: 'c1', tab: 'audit' });
    for (const tab of ['usage', 'staging', 'numbers', 'sites', 'onboard'] as const) {
      expect(parseRoute(`#/customers/c1/${tab}`)).toEqual({ name: 'customer', id: 'c1', tab });
      expect(href({ name: 'customer', id: 'c1', tab })).toBe(`#/customers/c1/${tab}`);
      expect(parseRoute(`#/customers/c1/${tab}/x`)).toMatchObject({ name: 'notfound' });
    }
    expect(parseRoute('#/customers/c1/audit/x')).toMatchObject({ name: 'notfound' });
    expect(parseRoute('#/customers/c1/other')).toMatchObject({ name: 'notfound' });
    expect(parseRoute('#/customers/c1/syncs/x')).toMatchObject({ name: 'notfound' });
  });

  it('parses the bulk upload tab and its jobs', () => {
    expect(parseRoute('#/customers/c1/bulk')).toEqual({ name: 'customer', id: 'c1', tab: 'bulk' });
    expect(parseRoute('#/customers/c1/bulk/j%2F1')).toEqual({ name: 'customer', id: 'c1', tab: 'bulk', jobId: 'j/1' });
    expect(parseRoute('#/customers/c1/bulk/j1?x=1')).toEqual({ name: 'customer', id: 'c1', tab: 'bulk', jobId: 'j1' });
    expect(parseRoute('#/customers/c1/bulk/j1/x')).toMatchObject({ name: 'notfound' });
    expect(parseRoute('#/customers/c1/bulk/%E0%A4%A')).toMatchObject({ name: 'notfound' });
    expect(href({ name: 'customer', id: 'c1', tab: 'bulk' })).toBe('#/customers/c1/bulk');
    expect(href({ name: 'customer', id: 'c 1', tab: 'bulk', jobId: 'j/1' })).toBe('#/customers/c%201/bulk/j%2F1');
    expect(href({ name: 'customer', id: 'c1', tab: 'usage', jobId: 'j1' })).toBe('#/customers/c1/usage');
    for (const r of [{ name: 'customer', id: 'a/b', tab: 'bulk' }, { name: 'customer', id: 'a', tab: 'bulk', jobId: 'j?#1' }] as Route[]) {
      expect(parseRoute(href(r))).toEqual(r);
    }
  });

  it('parses the user page and its tabs', () => {
    expect(parseRoute('#/customers/c1/users/u%2F1')).toEqual({ name: 'user', id: 'c1', userId: 'u/1' });
    expect(parseRoute('#/customers/c1/users/u1/licences')).toEqual({ name: 'user', id: 'c1', userId: 'u1' });
    expect(parseRoute('#/customers/c1/users/u1/properties')).toEqual({ name: 'user', id: 'c1', userId: 'u1', tab: 'properties' });
    expect(parseRoute('#/customers/c1/users/u1/audit')).toEqual({ name: 'user', id: 'c1', userId: 'u1', tab: 'audit' });
    expect(parseRoute('#/customers/c1/users/u1/nope')).toMatchObject({ name: 'notfound' });
    expect(parseRoute('#/customers/c1/users/u1/properties/x')).toMatchObject({ name: 'notfound' });
    expect(parseRoute('#/customers/c1/users/%E0%A4%A')).toMatchObject({ name: 'notfound' });
  });

  it('round-trips hrefs', () => {
    const routes: Route[] = [
      { name: 'customer', id: 'a b/c' },
      { name: 'customer', id: 'a b/c', tab: 'users' },
      { name: 'customer', id: 'x', tab: 'syncs' },
      { name: 'user', id: 'a/b', userId: 'u?#1' },
      { name: 'user', id: 'a', userId: 'u', tab: 'properties' },
      { name: 'user', id: 'a', userId: 'u', tab: 'audit' },
      { name: 'customer', id: 'a', tab: 'templates' },
      { name: 'customer', id: 'a', tab: 'audit' },
      { name: 'customer', id: 'a/b', tab: 'usage' },
      { name: 'dashboard' },
      { name: 'exports' },
    ];
    for (const r of routes) expect(parseRoute(href(r))).toEqual(r);
    expect(href({ name: 'customer', id: 'c1', tab: 'users' })).toBe('#/customers/c1/users');
    expect(href({ name: 'user', id: 'c1', userId: 'u1' })).toBe('#/customers/c1/users/u1');
  });
});
