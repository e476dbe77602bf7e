import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { safe } from '../../contain.js';
import { isMetricsHandler } from '../../exposition/handler.js';
import { METRICS_VIEW } from '../labels.js';
import type { HttpRecorder } from '../recorder.js';
import { stateOf } from '../request-state.js';
import { decorateReplyObserved, type DecorateReply } from './fastify-plugins.js';

const kMetricsRoute = Symbol('otel-django-metrics.fastify-metrics-route');

/** The parts of fastify 4/5's request this adapter reads (no type import: fastify is optional). */
interface FastifyRequest {
  raw: IncomingMessage;
  is404: boolean;
  protocol: string | undefined;
  routeOptions: { url?: string; config?: RouteConfig };
  /** fastify 4 before `routeOptions.url` existed. */
  routerPath?: string;
}

/** A route's `config`; fastify copies it, symbol keys included, into every request's route options. */
type RouteConfig = { [kMetricsRoute]?: true };

interface RouteOptions {
  handler?: unknown;
  config?: RouteConfig;
}

type Done = () => void;

interface FastifyInstance {
  decorateReply: DecorateReply;
  addHook(name: 'onRoute', hook: (route: RouteOptions) => void): unknown;
  addHook(name: 'onRequest', hook: (request: FastifyRequest, reply: unknown, done: Done) => void): unknown;
  addHook(name: 'onError', hook: (request: FastifyRequest, reply: unknown, error: unknown, done: Done) => void): unknown;
}

/** Published by fastify 4 and 5 at the end of `fastify()`, for every root instance. */
const INIT_CHANNEL = 'fastify.initialization';

/**
 * The fastify adapter. fastify announces each new instance on its own diagnostics channel, so no
 * module is patched: we add two hooks to the root instance before the app can add any, which makes
 * them the first hooks of every encapsulated context (plugins inherit their parent's hooks, `onRoute`
 * included).
 * TF = `onRequest`; the route match is decided by fastify's router before it, so it is recorded
 * there too; errors = `onError`. Response size and streaming come from the response tracker.
 * Plugins that decorate the reply (@fastify/view, @fastify/compress) are met through the root's
 * `decorateReply`, which every encapsulated context inherits (src/http/frameworks/fastify-plugins.ts).
 *
 * The hooks outlive this adapter (fastify cannot remove hooks), so they reach the recorder through
 * the request's own state: after `disable` they count nothing, after a restart they feed the new one.
 */
export function enableFastifyAdapter(_recorder: HttpRecorder): () => void {
  subscribe(INIT_CHANNEL, onInstance);
  return () => unsubscribe(INIT_CHANNEL, onInstance);
}

/*
 * Every step runs inside the containment primitive; the request hooks call fastify's `done`
 * outside it, exactly once, whatever happened inside.
 */

const onInstance = safe('fastify adapter fastify.initialization subscriber', (message: unknown) => {
  const { fastify } = message as { fastify: FastifyInstance };
  fastify.addHook('onRoute', onRoute);
  fastify.addHook('onRequest', onRequest);
  fastify.addHook('onError', onError);
  fastify.decorateReply = decorateReplyObserved(fastify.decorateReply);
});

/**
 * fastify binds route handlers, so the in-app metrics handler is only recognisable when its route is
 * declared; its route config is marked then, for `onRequest` to name the view before the handler runs.
 */
const onRoute = safe('fastify adapter onRoute', (route: RouteOptions) => {
  if (isMetricsHandler(route.handler)) route.config = { ...route.config, [kMetricsRoute]: true };
});

function onRequest(request: FastifyRequest, _reply: unknown, done: Done): void {
  enter(request);
  done();
}

const enter = safe('fastify adapter onRequest', (request: FastifyRequest) => {
  const req = request.raw;
  const recorder = stateOf(req)?.recorder;
  if (recorder === undefined) return;
  // `request.protocol` is https only if fastify's own trustProxy accepts this hop (or TLS).
  recorder.enter(req, 'fastify', request.protocol === 'https');
  if (!request.is404) recorder.matchRoute(req, viewOf(request));
});

function onError(request: FastifyRequest, _reply: unknown, error: unknown, done: Done): void {
  observeError(request, error);
  done();
}

const observeError = safe('fastify adapter onError', (request: FastifyRequest, error: unknown) => {
  stateOf(request.raw)?.recorder.error(request.raw, error);
});

function viewOf(request: FastifyRequest): string {
  const route = request.routeOptions; // a getter building a new object: read once
  return route.config?.[kMetricsRoute] === true ? METRICS_VIEW : String(route.url ?? request.routerPath);
}
