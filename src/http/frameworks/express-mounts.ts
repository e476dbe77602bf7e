import type { IncomingMessage } from 'node:http';

/**
 * Where a route sits (metrics.md section 2, express view template). express builds `req.baseUrl`
 * from the concrete URL (`/orgs/acme`), but a view is made of mount *patterns* (`/orgs/:org`).
 * So `use()` tags the layers it creates that dispatch into a router (a `Router`, or express's
 * wrapper of a sub-app) with their pattern and owning router, and `route()` tags the route with
 * its router. At run time such a layer notes its mount on the request, the router it enters
 * takes it and records its pattern base, and a route's template is its router's base + its path.
 * Plain middleware costs one property read on the layer; apps without routers or sub-apps, none.
 */

/** What `use(path, ...)` registered: the router holding the layer and the path it mounts at. */
interface Mount {
  readonly owner: object;
  readonly pattern: string;
}

/** The parts of an express 4 router / router 2 `Router` used here. */
export interface RouterLike {
  stack: object[];
}

/** The parts of an express 4 / router 2 `Route` used here. */
export interface RouteLike {
  path: unknown;
  stack: Array<{ handle?: unknown }>;
}

const kMount = Symbol('otel-django-metrics.express.mount');
const kOwner = Symbol('otel-django-metrics.express.owner');
const kMounts = Symbol('otel-django-metrics.express.mounts');

/** One request's mount tracking, in one object of stable shape (see `prepareRequest`). */
class RequestMounts {
  /** The mount of the router layer being entered, until its router takes it. */
  via: Mount | undefined = undefined;
  /** Once some mount had a path: `[router, pattern base, ...]`, latest entries last. */
  bases: unknown[] | undefined = undefined;
}

type MountLayer = { [kMount]?: Mount };
type OwnedRoute = { [kOwner]?: object };
type MountedRequest = IncomingMessage & { [kMounts]?: RequestMounts };

/** Whether any router layer was registered in this process: until then, requests need no tracking. */
let mountsRegistered = false;

/** After `router.use(...args)` pushed layers from index `from` on: tag those that dispatch into a router. */
export function tagMountLayers(router: RouterLike, from: number, args: readonly unknown[]): void {
  let mount: Mount | undefined;
  for (let i = from; i < router.stack.length; i++) {
    const layer = router.stack[i] as MountLayer & { handle?: unknown };
    if (!dispatchesIntoRouter(layer.handle)) continue;
    mount ??= { owner: router, pattern: mountPattern(args[0]) };
    layer[kMount] = mount;
    mountsRegistered = true;
  }
}

/**
 * A `Router` (express 4 or the router package), an express app (express's own test: `handle` and
 * `set`), or the `mounted_app` wrapper `app.use` puts around a sub-app.
 */
function dispatchesIntoRouter(fn: unknown): boolean {
  if (typeof fn !== 'function') return false;
  const f = fn as { stack?: unknown; handle?: unknown; set?: unknown; name: string };
  if (typeof f.handle === 'function' && (Array.isArray(f.stack) || typeof f.set === 'function')) return true;
  return f.name === 'mounted_app';
}

/** After `router.route(path)` created `route`. */
export function tagRoute(router: object, route: object): void {
  (route as OwnedRoute)[kOwner] = router;
}

/**
 * At `app.handle` entry. express then changes the request's prototype, after which V8 gives every
 * property added to it a new hidden class per request: so the tracking object is added here, once.
 */
export function prepareRequest(req: IncomingMessage): void {
  if (mountsRegistered && (req as MountedRequest)[kMounts] === undefined) (req as MountedRequest)[kMounts] = new RequestMounts();
}

/** A layer is about to run for `req` (hot path: one property read for plain middleware, none in apps without mounts). */
export function enterLayer(layer: object, req: IncomingMessage): void {
  if (!mountsRegistered) return;
  const mount = (layer as MountLayer)[kMount];
  if (mount === undefined) return;
  const r = req as MountedRequest;
  (r[kMounts] ??= new RequestMounts()).via = mount; // a router used without an express app
}

/**
 * A router starts dispatching `req`. Returns true when no router layer led into it: the request's
 * outermost router (or one an app's handler called itself, which then counts from the top).
 * A router entered under a mount records its pattern base.
 */
export function enterRouter(router: object, req: IncomingMessage): boolean {
  if (!mountsRegistered) return true;
  const mounts = (req as MountedRequest)[kMounts];
  if (mounts === undefined || mounts.via === undefined) return true;
  const { via, bases } = mounts;
  mounts.via = undefined;
  const base = baseOf(bases, via.owner) + via.pattern;
  if (bases !== undefined) bases.push(router, base);
  else if (base !== '') mounts.bases = [router, base]; // while every base is '', nothing to remember
  return false;
}

function baseOf(bases: unknown[] | undefined, router: object | undefined): string {
  if (bases !== undefined) for (let i = bases.length - 2; i >= 0; i -= 2) if (bases[i] === router) return bases[i + 1] as string;
  return '';
}

/** The route's view template: its router's mount patterns + its own path (RegExp as text, arrays joined by `,`). */
export function routeTemplate(req: IncomingMessage, route: RouteLike): string {
  const own = typeof route.path === 'string' ? route.path : String(route.path);
  // Without mounts the request carries no tracking object: skip a lookup that would miss its way
  // up express's request prototype chain.
  if (!mountsRegistered) return own;
  const bases = (req as MountedRequest)[kMounts]?.bases;
  if (bases === undefined) return own;
  const base = baseOf(bases, (route as OwnedRoute)[kOwner]);
  return base === '' ? own : base + own;
}

/**
 * The pattern a `use()` call mounts at, from its first argument, disambiguated as express does
 * (a function, or an array whose first leaf is one, means no path). `req.baseUrl` never ends in
 * `/`, so neither does a string pattern: `/` mounts as ''.
 */
function mountPattern(first: unknown): string {
  let leaf = first;
  while (Array.isArray(leaf) && leaf.length !== 0) leaf = leaf[0];
  return typeof leaf === 'function' ? '' : patternText(first);
}

function patternText(path: unknown): string {
  if (typeof path === 'string') return path.replace(/\/+$/, '');
  if (Array.isArray(path)) return path.map(patternText).join(',');
  return String(path);
}
