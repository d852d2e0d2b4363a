import { describe, expect, it } from 'vitest';
import { CursorPager } from './paging';

describe('CursorPager', () => {
  it('starts on the first page with no cursor', () => {
    const p = new CursorPager();
    expect(p.cursor).toBe('');
    expect(p.pageNumber).toBe(1);
    expect(p.hasPrevious).toBe(false);
    expect(p.hasNext).toBe(false);
    expect(p.forward()).toBeNull();
    expect(p.back()).toBeNull();
  });

  it('walks forward and back through cursors', () => {
    const p = new CursorPager();
    p.loaded('c2');
    expect(p.hasNext).toBe(true);
    expect(p.forward()).toBe('c2');
    expect(p.pageNumber).toBe(2);
    expect(p.hasNext).toBe(false); // unknown until the page is loaded
    p.loaded('c3');
    expect(p.forward()).toBe('c3');
    p.loaded('');
    expect(p.pageNumber).toBe(3);
    expect(p.hasNext).toBe(false);
    expect(p.hasPrevious).toBe(true);
    expect(p.back()).toBe('c2');
    expect(p.pageNumber).toBe(2);
    p.loaded('c3');
    expect(p.back()).toBe('');
    expect(p.pageNumber).toBe(1);
    expect(p.hasPrevious).toBe(false);
  });

  it('treats a missing nextCursor as the last page and resets', () => {
    const p = new CursorPager();
    p.loaded(undefined);
    expect(p.hasNext).toBe(false);
    p.loaded('x');
    p.forward();
    p.reset();
    expect(p.cursor).toBe('');
    expect(p.pageNumber).toBe(1);
  });
});
