// A tiny hash router: #/signin, #/dashboard, #/customers,
// #/customers/{id}[/users|/usage|/syncs|/templates|/staging|/numbers|/sites|/onboard|/audit|/bulk],
// #/customers/{id}/bulk/{jobId} (a bulk upload's job),
// #/customers/{id}/users/{userId}[/properties|/audit],
// #/licences, #/exports (the month-end exports, provider admins). A `?query` after the path is left to the view (the users list keeps its search and filters there).

/** Tabs of the customer page; absent in a route means the default, Licences. */
export type CustomerTab = 'licences' | 'users' | 'usage' | 'syncs' | 'templates' | 'staging' | 'numbers' | 'sites' | 'onboard' | 'audit' | 'bulk';

/** The customer sections that are a single page (no sub-path): every tab but Licences and Users. */
const customerSections: ReadonlySet<string> = new Set(['usage', 'syncs', 'templates', 'staging', 'numbers', 'sites', 'onboard', 'audit']);
/** Tabs of the user page; absent means the default, Licences. */
export type UserTab = 'licences' | 'properties' | 'audit';

export type Route =
  | { name: 'signin' }
  | { name: 'dashboard' }
  | { name: 'customers' }
  | { name: 'customer'; id: string; tab?: Exclude<CustomerTab, 'licences'>; /** With tab bulk: one job. */ jobId?: string }
  | { name: 'user'; id: string; userId: string; tab?: Exclude<UserTab, 'licences'> }
  | { name: 'licences' }
  | { name: 'exports' }
  | { name: 'notfound'; path: string };

function decode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** Parses a location hash into a route; an empty hash is the customers list. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/\?.*$/, '');
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return { name: 'customers' };
  const [head, rawId, ...rest] = parts;
  if (head === 'signin' && rawId === undefined) return { name: 'signin' };
  if (head === 'licences' && rawId === undefined) return { name: 'licences' };
  if (head === 'dashboard' && rawId === undefined) return { name: 'dashboard' };
  if (head === 'exports' && rawId === undefined) return { name: 'exports' };
  if (head === 'customers') {
    if (rawId === undefined) return { name: 'customers' };
    const id = decode(rawId);
    if (id === null || id === '') return { name: 'notfound', path };
    const [section, rawUser, userTab, ...more] = rest;
    if (section === undefined || (section === 'licences' && rawUser === undefined)) return { name: 'customer', id };
    if (customerSections.has(section) && rawUser === undefined) return { name: 'customer', id, tab: section as Exclude<CustomerTab, 'licences' | 'users'> };
    if (section === 'bulk' && userTab === undefined) {
      if (rawUser === undefined) return { name: 'customer', id, tab: 'bulk' };
      const jobId = decode(rawUser);
      if (jobId !== null && jobId !== '') return { name: 'customer', id, tab: 'bulk', jobId };
    }
    if (section === 'users') {
      if (rawUser === undefined) return { name: 'customer', id, tab: 'users' };
      const userId = decode(rawUser);
      if (userId === null || userId === '' || more.length > 0) return { name: 'notfound', path };
      if (userTab === undefined || userTab === 'licences') return { name: 'user', id, userId };
      if (userTab === 'properties' || userTab === 'audit') return { name: 'user', id, userId, tab: userTab };
    }
  }
  return { name: 'notfound', path };
}

/** The hash for a route. */
export function href(route: Route): string {
  switch (route.name) {
    case 'signin':
      return '#/signin';
    case 'dashboard':
      return '#/dashboard';
    case 'customers':
      return '#/customers';
    case 'customer':
      return (
        `#/customers/${encodeURIComponent(route.id)}${route.tab ? `/${route.tab}` : ''}` +
        (route.tab === 'bulk' && route.jobId ? `/${encodeURIComponent(route.jobId)}` : '')
      );
    case 'user':
      return (
        `#/customers/${encodeURIComponent(route.id)}/users/${encodeURIComponent(route.userId)}` +
        (route.tab ? `/${route.tab}` : '')
      );
    case 'licences':
      return '#/licences';
    case 'exports':
      return '#/exports';
    case 'notfound':
      return `#/${route.path}`;
  }
}
