import type { IncomingMessage } from 'node:http';
import { safe } from '../../contain.js';
import { onceLogger } from '../../log.js';
import { stateOf } from '../request-state.js';

const warnOnce = onceLogger();

/** Where the accessor keeps each context's `render`. */
const kRender = Symbol('otel-django-metrics.koa-render');
type Carrier = { [kRender]?: unknown; req?: IncomingMessage };
type Render = (this: unknown, ...args: unknown[]) => unknown;

/**
 * koa-views' `ctx.render(name)` (@ladjs/koa-views, koa-views): its middleware assigns each request's
 * context a new `render` (or the app assigns one to `app.context`), so an accessor for `render` on
 * koa's own context prototype sees every one, and stores it wrapped to count the template name it is
 * called with, a response-bound render (it sets `ctx.body`). `ctx.response.render`, the same
 * function, is left as the app set it. The accessor stays after `stop`; while stopped, it only stores.
 */
export class RenderCalls {
  /** Context prototypes given the accessor: once each, never removed. */
  readonly #watched = new WeakSet<object>();
  #active = false;

  watch(contextPrototype: object): void {
    this.#active = true;
    if (this.#watched.has(contextPrototype)) return;
    if (Object.getOwnPropertyDescriptor(contextPrototype, 'render') !== undefined) {
      warnOnce('accessor', 'koa adapter: koa context already defines render; koa-views renders will not be counted');
      return;
    }
    this.#watched.add(contextPrototype);
    const active = (): boolean => this.#active;
    Object.defineProperty(contextPrototype, 'render', {
      configurable: true,
      get(this: Carrier) {
        return this[kRender];
      },
      set(this: Carrier, render: unknown) {
        this[kRender] = active() && typeof render === 'function' ? observedRender(this, render as Render) : render;
      },
    });
  }

  stop(): void {
    this.#active = false;
  }
}

/** `owner` is the context it was assigned to: a request's, or `app.context` whose requests inherit it. */
function observedRender(owner: Carrier, render: Render): Render {
  return function (this: unknown, ...args: unknown[]) {
    onRender(this, owner, args[0]);
    return render.apply(this, args);
  };
}

const onRender = safe('koa adapter ctx.render', (self: unknown, owner: Carrier, name: unknown) => {
  // Called as `ctx.render(...)`, `this` is the request's context; detached, the context it was set on.
  const req = (self as Carrier | undefined)?.req ?? owner.req;
  const state = req === undefined ? undefined : stateOf(req);
  state?.recorder.render(state.req, String(name));
});
