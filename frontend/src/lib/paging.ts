// Cursor paging for server-side paged lists. The server hands out opaque `nextCursor`s
// ("" on the last page); going back replays the cursor that fetched the previous page.

export class CursorPager {
  /** Cursors of the pages before the current one, oldest first ("" = the first page). */
  private readonly history: string[] = [];
  private current = '';
  private next = '';

  /** The cursor to fetch the current page with ("" for the first page). */
  get cursor(): string {
    return this.current;
  }

  /** 1-based number of the current page. */
  get pageNumber(): number {
    return this.history.length + 1;
  }

  get hasPrevious(): boolean {
    return this.history.length > 0;
  }

  get hasNext(): boolean {
    return this.next !== '';
  }

  /** Records the nextCursor of the page just loaded. */
  loaded(nextCursor: string | null | undefined): void {
    this.next = nextCursor ?? '';
  }

  /** Moves forward; returns the cursor to fetch, or null when on the last page. */
  forward(): string | null {
    if (!this.hasNext) return null;
    this.history.push(this.current);
    this.current = this.next;
    this.next = '';
    return this.current;
  }

  /** Moves back; returns the cursor to fetch, or null when on the first page. */
  back(): string | null {
    const prev = this.history.pop();
    if (prev === undefined) return null;
    this.current = prev;
    this.next = '';
    return this.current;
  }

  /** Goes back to the first page. */
  reset(): void {
    this.history.length = 0;
    this.current = '';
    this.next = '';
  }
}
