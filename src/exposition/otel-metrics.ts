import type { Attributes } from '@opentelemetry/api';
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { escapeLabelValue, formatFloat } from './format.js';
import { PROMETHEUS_TEXT, type TextFlavour } from './prometheus-text.js';

/**
 * Text for what the OTel SDK collected (user metrics from `metrics.getMeter()`, instrumentation
 * metrics renamed by views): the exporter's naming rules (sanitised names, `_total` on monotonic
 * sums, attribute keys made label names), without unit suffixes, and with prometheus_client's
 * number format; `flavour` writes the metadata lines. Scope labels only with
 * `PROMETHEUS_OTEL_INFO=true` (E9), which also writes the target metadata (`writeTargetInfo`).
 */
export function writeOtelMetrics(out: string[], collected: ResourceMetrics, withOtelInfo: boolean, flavour: TextFlavour = PROMETHEUS_TEXT): void {
  for (const scope of collected.scopeMetrics) {
    const scopeLabels: Attributes = withOtelInfo
      ? { otel_scope_name: scope.scope.name, ...(scope.scope.version ? { otel_scope_version: scope.scope.version } : {}) }
      : {};
    for (const metric of scope.metrics) writeMetric(out, metric, scopeLabels, flavour);
  }
}

/** The OTel resource's attributes as target metadata (OpenTelemetry's `target_info`). */
export function writeTargetInfo(out: string[], collected: ResourceMetrics, flavour: TextFlavour = PROMETHEUS_TEXT): void {
  out.push(flavour.targetInfo(labels(collected.resource.attributes)));
}

/** What the OpenTelemetry Prometheus exporter writes for an instrument created without a description: never an empty HELP. */
const NO_DESCRIPTION = 'description missing';

function writeMetric(out: string[], metric: MetricData, scopeLabels: Attributes, flavour: TextFlavour): void {
  const base = sanitizeName(metric.descriptor.name);
  const help = metric.descriptor.description || NO_DESCRIPTION;
  switch (metric.dataPointType) {
    case DataPointType.SUM: {
      const name = metric.isMonotonic && !base.endsWith('_total') ? `${base}_total` : base;
      out.push(flavour.header(name, help, metric.isMonotonic ? 'counter' : 'gauge'));
      for (const p of metric.dataPoints) out.push(`${name}${labels({ ...scopeLabels, ...p.attributes })} ${formatFloat(p.value)}\n`);
      return;
    }
    case DataPointType.GAUGE:
      out.push(flavour.header(base, help, 'gauge'));
      for (const p of metric.dataPoints) out.push(`${base}${labels({ ...scopeLabels, ...p.attributes })} ${formatFloat(p.value)}\n`);
      return;
    case DataPointType.HISTOGRAM:
      out.push(flavour.header(base, help, 'histogram'));
      for (const p of metric.dataPoints) {
        const attrs = { ...scopeLabels, ...p.attributes };
        const { boundaries, counts } = p.value.buckets;
        let cumulative = 0;
        for (let i = 0; i < counts.length; i++) {
          cumulative += counts[i]!;
          const le = i < boundaries.length ? formatFloat(boundaries[i]!) : '+Inf';
          out.push(`${base}_bucket${labels({ ...attrs, le })} ${formatFloat(cumulative)}\n`);
        }
        const l = labels(attrs);
        out.push(`${base}_count${l} ${formatFloat(p.value.count)}\n${base}_sum${l} ${formatFloat(p.value.sum ?? 0)}\n`);
      }
      return;
    default:
      // Exponential histograms have no representation in either text format.
      return;
  }
}

function sanitizeName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/**
 * An attribute key as a label name, as OpenTelemetry's Prometheus compatibility rules and its
 * Collector do it: other characters become `_`, a leading digit gets `key_`, and the `__` prefix
 * Prometheus reserves gets `key`. One invalid key would otherwise make the whole scrape unparseable.
 */
function labelName(key: string): string {
  const name = key.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(name) || name === '') return `key_${name}`;
  return name.startsWith('__') ? `key${name}` : name;
}

/** Keys that become the same label name share it, their values joined by `;` in the order of the original keys. */
function labels(attrs: Attributes): string {
  const keys = Object.keys(attrs).sort();
  if (keys.length === 0) return '';
  const merged = new Map<string, string>();
  for (const key of keys) {
    const name = labelName(key);
    const value = String(attrs[key]);
    const previous = merged.get(name);
    merged.set(name, previous === undefined ? value : `${previous};${value}`);
  }
  const pairs = [...merged.keys()].sort().map((name) => `${name}="${escapeLabelValue(merged.get(name)!)}"`);
  return `{${pairs.join(',')}}`;
}
