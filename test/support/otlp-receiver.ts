import { createRequire } from 'node:module';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { spawnApp, type RunningApp, type SpawnOptions } from './processes.js';

/**
 * A real OTLP/HTTP metrics receiver for tests: a node:http server on a free port of 127.0.0.1 that
 * decodes each request with the official protocol definitions (the opentelemetry-proto messages
 * as protobufjs code generated from them, shipped by @opentelemetry/otlp-transformer 0.217, here
 * under the alias otlp-proto-definitions): protobuf payloads with `decode`, JSON payloads with
 * `fromObject`, where a key that is no field of the message is an error (it would be dropped
 * silently otherwise). Both end up in one shape, so tests compare the two protocols directly.
 */

interface GeneratedMessage {
  decode(bytes: Uint8Array): unknown;
  fromObject(json: unknown): unknown;
  encode(message: unknown): { finish(): Uint8Array };
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}

const definitions = createRequire(import.meta.url)('otlp-proto-definitions/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { metrics: { v1: { ExportMetricsServiceRequest: GeneratedMessage; ExportMetricsServiceResponse: GeneratedMessage } } } } };
};
const { ExportMetricsServiceRequest, ExportMetricsServiceResponse } = definitions.opentelemetry.proto.collector.metrics.v1;

/** int64 as decimal strings (nanosecond times exceed a double's precision), enums as numbers, absent fields absent. */
const TO_OBJECT = { longs: String, enums: Number, bytes: String, defaults: false, arrays: true };

export type AttributeValue = string | number | boolean;

/** One data point, flattened: a number point's `value`, or a histogram point's counts. */
export interface ReceivedPoint {
  readonly attributes: Record<string, AttributeValue>;
  readonly startTimeUnixNano: bigint;
  readonly timeUnixNano: bigint;
  readonly value?: number;
  readonly count?: number;
  readonly sum?: number;
  readonly bucketCounts?: number[];
  readonly explicitBounds?: number[];
}

export interface ReceivedMetric {
  readonly resource: Record<string, AttributeValue>;
  readonly scope: string;
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly type: 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary';
  /** Sums only. */
  readonly monotonic?: boolean;
  /** AggregationTemporality: 1 delta, 2 cumulative (sums and histograms). */
  readonly temporality?: number;
  readonly points: ReceivedPoint[];
}

export interface ReceivedRequest {
  readonly protocol: 'http/protobuf' | 'http/json';
  readonly headers: IncomingHttpHeaders;
  /** When the request arrived (ms since the epoch). */
  readonly at: number;
  readonly metrics: ReceivedMetric[];
}

/** How the receiver answers a request: a status (with headers), or never ('hang'). */
export type Reply = { status: number; headers?: Record<string, string> } | 'hang';

export interface OtlpReceiver {
  /** http://127.0.0.1:<port>/v1/metrics */
  readonly url: string;
  /** The base URL (OTEL_EXPORTER_OTLP_ENDPOINT form). */
  readonly base: string;
  /** Decoded requests, in arrival order (those answered with an error included). */
  readonly requests: ReceivedRequest[];
  /** Requests that could not be decoded (answered 400), with the reason. */
  readonly rejected: string[];
  /** How the next requests are answered; by default 200 with an empty response message. */
  reply: (request: ReceivedRequest) => Reply;
  /** Resolves once `predicate` holds for the requests received so far. */
  waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

const OK: Reply = { status: 200 };

/** `port`: 0 for any free one. */
export async function startOtlpReceiver(port = 0): Promise<OtlpReceiver> {
  const requests: ReceivedRequest[] = [];
  const rejected: string[] = [];
  const sockets = new Set<Socket>();
  const waiting = new Set<() => void>();
  const receiver: OtlpReceiver = {
    url: '',
    base: '',
    requests,
    rejected,
    reply: () => OK,
    waitFor: (predicate, timeoutMs = 10_000, what = 'the expected OTLP requests') =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(requests)) return;
          waiting.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiting.delete(check);
          reject(new Error(`timed out waiting for ${what}: ${requests.length} request(s), ${rejected.length} rejected ${JSON.stringify(rejected)}`));
        }, timeoutMs);
        waiting.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let request: ReceivedRequest;
      try {
        request = decodeRequest(req.url, req.headers, Buffer.concat(chunks));
      } catch (e) {
        rejected.push(e instanceof Error ? e.message : String(e));
        res.writeHead(400).end();
        return;
      }
      requests.push(request);
      for (const check of [...waiting]) check();
      answer(res, request, receiver.reply(request));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as { port: number }).port;
  Object.assign(receiver, { url: `http://127.0.0.1:${bound}/v1/metrics`, base: `http://127.0.0.1:${bound}` });
  return receiver;
}

function answer(res: ServerResponse, request: ReceivedRequest, reply: Reply): void {
  if (reply === 'hang') return;
  const json = request.protocol === 'http/json';
  const body = reply.status === 200 ? (json ? Buffer.from('{}') : Buffer.from(ExportMetricsServiceResponse.encode({}).finish())) : Buffer.alloc(0);
  res.writeHead(reply.status, { 'Content-Type': json ? 'application/json' : 'application/x-protobuf', ...reply.headers }).end(body);
}

function decodeRequest(path: string | undefined, headers: IncomingHttpHeaders, raw: Buffer): ReceivedRequest {
  if (path !== '/v1/metrics') throw new Error(`POST to ${path}`);
  const body = headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
  const type = headers['content-type'];
  let message: unknown;
  let protocol: ReceivedRequest['protocol'];
  if (type === 'application/x-protobuf') {
    protocol = 'http/protobuf';
    message = ExportMetricsServiceRequest.decode(body);
  } else if (type === 'application/json') {
    protocol = 'http/json';
    const json: unknown = JSON.parse(body.toString('utf8'));
    message = ExportMetricsServiceRequest.fromObject(json);
    const unknown = keysNotIn(json, ExportMetricsServiceRequest.toObject(message, TO_OBJECT), '');
    if (unknown.length > 0) throw new Error(`fields that are no part of ExportMetricsServiceRequest: ${unknown.join(', ')}`);
  } else {
    throw new Error(`Content-Type ${type}`);
  }
  return { protocol, headers, at: Date.now(), metrics: flatten(ExportMetricsServiceRequest.toObject(message, TO_OBJECT) as Request) };
}

/** The paths of `input`'s keys that the message read from it does not have. */
function keysNotIn(input: unknown, read: unknown, path: string): string[] {
  if (Array.isArray(input)) return input.flatMap((v, i) => keysNotIn(v, (read as unknown[] | undefined)?.[i], `${path}[${i}]`));
  if (input === null || typeof input !== 'object') return [];
  const known = (read ?? {}) as Record<string, unknown>;
  return Object.entries(input).flatMap(([k, v]) => (k in known ? keysNotIn(v, known[k], `${path}.${k}`) : [`${path}.${k}`]));
}

// The decoded message's shape (toObject with TO_OBJECT), as far as the tests read it.
type AnyValue = { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number };
type KeyValue = { key: string; value?: AnyValue };
type Point = {
  attributes?: KeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano?: string;
  asDouble?: number;
  asInt?: string;
  count?: string;
  sum?: number;
  bucketCounts?: string[];
  explicitBounds?: number[];
};
type Data = { dataPoints?: Point[]; aggregationTemporality?: number; isMonotonic?: boolean };
type Metric = { name: string; description?: string; unit?: string } & Partial<Record<ReceivedMetric['type'], Data>>;
type Request = { resourceMetrics?: Array<{ resource?: { attributes?: KeyValue[] }; scopeMetrics?: Array<{ scope?: { name?: string }; metrics?: Metric[] }> }> };

function flatten(request: Request): ReceivedMetric[] {
  return (request.resourceMetrics ?? []).flatMap((rm) =>
    (rm.scopeMetrics ?? []).flatMap((sm) =>
      (sm.metrics ?? []).map((m) => {
        const type = (['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'] as const).find((t) => m[t] !== undefined)!;
        const data = m[type]!;
        return {
          resource: attributesOf(rm.resource?.attributes),
          scope: sm.scope?.name ?? '',
          name: m.name,
          description: m.description ?? '',
          unit: m.unit ?? '',
          type,
          ...(type === 'sum' ? { monotonic: data.isMonotonic ?? false } : {}),
          ...(data.aggregationTemporality !== undefined ? { temporality: data.aggregationTemporality } : {}),
          points: (data.dataPoints ?? []).map(pointOf),
        };
      }),
    ),
  );
}

function pointOf(p: Point): ReceivedPoint {
  const times = { attributes: attributesOf(p.attributes), startTimeUnixNano: BigInt(p.startTimeUnixNano ?? 0), timeUnixNano: BigInt(p.timeUnixNano ?? 0) };
  if (p.bucketCounts !== undefined || p.count !== undefined) {
    return { ...times, count: Number(p.count ?? 0), sum: p.sum ?? 0, bucketCounts: (p.bucketCounts ?? []).map(Number), explicitBounds: p.explicitBounds ?? [] };
  }
  return { ...times, value: p.asInt !== undefined ? Number(p.asInt) : (p.asDouble ?? 0) };
}

function attributesOf(list: KeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value?.stringValue ?? value?.boolValue ?? value?.doubleValue ?? (value?.intValue !== undefined ? Number(value.intValue) : '');
  }
  return out;
}

/** An export's metrics by name, each with its points from every request of that export. */
export type PushedExport = Map<string, ReceivedMetric>;

/** When a metric's points were collected (ns): the same for all of them in one export. */
const collectedAt = (m: ReceivedMetric): bigint | undefined => m.points[0]?.timeUnixNano;

/**
 * The SDK's own metrics and the families of one export are collected together, a few ms apart
 * (the families' points all at one time); the tests' exports are 100 ms apart at the least.
 */
const ONE_EXPORT_NS = 30_000_000n;

/**
 * The export whose `name` was collected at `time`: every metric collected within 30 ms of it,
 * from the same process, its points merged across the requests the export was cut into.
 */
export function exportAt(requests: readonly ReceivedRequest[], name: string, time: bigint): PushedExport {
  const anchor = requests.flatMap((r) => r.metrics).find((m) => m.name === name && collectedAt(m) === time)!;
  const instance = anchor.resource['service.instance.id'];
  const merged: PushedExport = new Map();
  for (const metric of requests.flatMap((r) => r.metrics)) {
    const at = collectedAt(metric);
    if (at === undefined || metric.resource['service.instance.id'] !== instance) continue;
    if (at - time > ONE_EXPORT_NS || time - at > ONE_EXPORT_NS) continue;
    const seen = merged.get(metric.name);
    merged.set(metric.name, seen === undefined ? metric : { ...seen, points: [...seen.points, ...metric.points] });
  }
  return merged;
}

/**
 * Resolves with the first whole export that collected `name` after `since` (ms since the epoch):
 * once `name` has been seen collected twice after it, the first of those exports has sent all
 * its requests (a process runs one export at a time).
 */
export async function pushedAfter(receiver: OtlpReceiver, name: string, since: number, timeoutMs = 10_000): Promise<PushedExport> {
  const times = (requests: readonly ReceivedRequest[]) =>
    [...new Set(requests.flatMap((r) => r.metrics).filter((m) => m.name === name).map(collectedAt))].filter((t): t is bigint => t !== undefined && t > BigInt(since) * 1_000_000n).sort((a, b) => (a < b ? -1 : 1));
  await receiver.waitFor((requests) => times(requests).length >= 2, timeoutMs, `two exports of ${name} collected after ${new Date(since).toISOString()}`);
  return exportAt(receiver.requests, name, times(receiver.requests)[0]!);
}

/** A point's value, or the histogram count, by attributes given as `key=value,...` strings, sorted. */
export function pointsOf(metric: ReceivedMetric | undefined): string[] {
  return (metric?.points ?? [])
    .map((p) => `${JSON.stringify(Object.fromEntries(Object.entries(p.attributes).sort()))} ${p.value ?? p.count}`)
    .sort();
}

/** The OTLP test app (test/fixtures/otlp-app.mjs). */
export const OTLP_APP = 'test/fixtures/otlp-app.mjs';

/**
 * `script` (the OTLP test app by default) under the preload, pushing to `base` every 200 ms as
 * service `django`; without a metrics port unless OTEL_METRICS_EXPORTER serves the endpoint too.
 */
export function startPushing(base: string, env: SpawnOptions['env'] = {}, options: Omit<SpawnOptions, 'env'> & { script?: string } = {}): Promise<RunningApp> {
  const endpoint = env.OTEL_METRICS_EXPORTER?.includes('prometheus') === true;
  return spawnApp(options.script ?? OTLP_APP, {
    ...options,
    env: {
      OTEL_METRICS_EXPORTER: 'otlp',
      ...(endpoint ? {} : { PROMETHEUS_METRICS_EXPORT_PORT: undefined }),
      OTEL_EXPORTER_OTLP_ENDPOINT: base,
      OTEL_METRIC_EXPORT_INTERVAL: '200',
      OTEL_SERVICE_NAME: 'django',
      ...env,
    },
  });
}

/** GETs each path of the app in turn, reading each body. */
export async function getEach(app: RunningApp, ...paths: string[]): Promise<void> {
  for (const path of paths) await (await fetch(app.url(path))).text();
}
