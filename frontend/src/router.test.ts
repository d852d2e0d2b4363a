import { describe, expect, it } from 'vitest';
import { href, parseRoute } from './router';

describe('router', () => {
  it('parses routes', () => {
    expect(parseRoute('')).toEqual({ name: 'customers' });
    expect(parseRoute('#/')).toEqual({ name: 'customers' });
    expect(parseRoute('#/signin')).toEqual({ name: 'signin' });
    expect(parseRoute('#/customers')).toEqual({ name: 'customers' });
    expect(parseRoute('#/customers/c%2F1')).toEqual({ name: 'customer', id: 'c/1' });
    expect(parseRoute('#/licences?x=1')).toEqual({ name: 'licences' });
    expect(parseRoute('#/nope')).toEqual({ name: 'notfound', path: '/nope' });
    expect(parseRoute('#/customers/%E0%A4%A')).toMatchObject({ name: 'notfound' });
  });
  it('round-trips hrefs', () => {
    expect(parseRoute(href({ name: 'customer', id: 'a b/c' }))).toEqual({ name: 'customer', id: 'a b/c' });
  });
});
