// The bench's URL space, shared by the apps (which register it) and the harness (which drives
// it), so both sides always agree on what a route, a known URL and an unknown URL are.

/** Throughput mix, cycled by every load connection: mostly the parameterised route, plus health and a 404. */
export const LOAD_MIX = [
  '/api/items/1', '/api/items/2', '/api/items/3', '/api/items/4',
  '/api/items/5', '/api/items/6', '/api/items/7', '/health', '/no/such/page',
];

/** Scrape phase: every route is hit with each method x status, so series = routes x methods x statuses. */
export const SCRAPE_METHODS = ['GET', 'POST', 'PUT'];
export const SCRAPE_STATUSES = [200, 201, 404, 500];

// Routes are spread over nested routers: it keeps express's linear route matching cheap enough to
// drive 24k requests quickly, and it exercises baseUrl + route.path route templates.
const ROUTES_PER_GROUP = 50;

/** The n scrape-phase route templates as { mount, path } (template = mount + path). */
export function scrapeRoutes(n) {
  const routes = [];
  for (let i = 0; i < n; i++) routes.push({ mount: `/g${Math.floor(i / ROUTES_PER_GROUP)}`, path: `/r${i}/:code` });
  return routes;
}

/** Every request of the scrape phase, as { method, path }; the status code travels in the URL. */
export function scrapeRequests(n) {
  const out = [];
  for (const { mount, path } of scrapeRoutes(n)) {
    for (const method of SCRAPE_METHODS) {
      for (const code of SCRAPE_STATUSES) out.push({ method, path: mount + path.replace(':code', String(code)) });
    }
  }
  return out;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/**
 * A URL no route matches and no value-normaliser collapses: lowercase words, like a scanner's
 * probes (`/wp-admin/xyz.php`), rather than numbers or hex ids that peers rewrite to a placeholder.
 */
export function unknownPath() {
  let word = '';
  for (let i = 0; i < 10; i++) word += LETTERS[Math.floor(Math.random() * 26)];
  return `/unknown/${word}`;
}
