// A tiny hash router: #/signin, #/customers, #/customers/{id}, #/licences.

export type Route =
  | { name: 'signin' }
  | { name: 'customers' }
  | { name: 'customer'; id: string }
  | { name: 'licences' }
  | { name: 'notfound'; path: string };

/** Parses a location hash into a route; an empty hash is the customers list. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/\?.*$/, '');
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return { name: 'customers' };
  const [head, id, ...rest] = parts;
  if (head === 'signin' && id === undefined) return { name: 'signin' };
  if (head === 'licences' && id === undefined) return { name: 'licences' };
  if (head === 'customers') {
    if (id === undefined) return { name: 'customers' };
    if (rest.length === 0) {
      try {
        return { name: 'customer', id: decodeURIComponent(id) };
      } catch {
        return { name: 'notfound', path };
      }
    }
  }
  return { name: 'notfound', path };
}

/** The hash for a route. */
export function href(route: Route): string {
  switch (route.name) {
    case 'signin':
      return '#/signin';
    case 'customers':
      return '#/customers';
    case 'customer':
      return `#/customers/${encodeURIComponent(route.id)}`;
    case 'licences':
      return '#/licences';
    case 'notfound':
      return `#/${route.path}`;
  }
}
