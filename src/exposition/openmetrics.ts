import type { FamilyType } from '../../views/index.js';
import type { Exemplar } from '../store/snapshot.js';
import { escapeLabelValue, formatFloat, TARGET_HELP } from './format.js';
import type { TextFlavour } from './prometheus-text.js';

/**
 * OpenMetrics 1.0 text: the Prometheus text's samples, numbers and label sets unchanged (the same
 * series whichever format a scraper negotiates; prometheus_client writes both the same way), with
 * the format's own metadata, exemplars and `# EOF`.
 */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/**
 * The family name of a sample name: a counter's samples carry the `_total` suffix its family name
 * must not have (`# TYPE django_http_requests_before_middlewares counter` above
 * `django_http_requests_before_middlewares_total`). Every other family is named as its samples,
 * gauges whose names end in `_total` included: a gauge's samples take no suffix, and the format
 * only asks exposers to avoid such names, which dashboards query as they are.
 */
function familyName(name: string, type: FamilyType): string {
  return type === 'counter' && name.endsWith('_total') ? name.slice(0, -'_total'.length) : name;
}

/**
 * `# TYPE` then `# HELP`, the order the format recommends. HELP is an escaped string like a label
 * value (backslash, double quote, newline), where the 0.0.4 text leaves double quotes as they are.
 */
function header(name: string, help: string, type: FamilyType): string {
  const family = familyName(name, type);
  return `# TYPE ${family} ${type}\n# HELP ${family} ${escapeLabelValue(help)}\n`;
}

/** The format's limit on an exemplar's label names and values together, in characters. */
const EXEMPLAR_LABELS_MAX = 128;

/**
 * ` # {trace_id="…",span_id="…"} value timestamp`; '' for an exemplar whose labels exceed the
 * format's limit (UTF-16 length, never below the code points the format counts). Rendered once
 * per exemplar: one that no request replaced is the same text at the next scrape.
 */
function exemplarText(exemplar: Exemplar): string {
  const cached = exemplar.outputCache;
  if (typeof cached === 'string') return cached;
  const text = renderExemplar(exemplar);
  exemplar.outputCache = text;
  return text;
}

function renderExemplar(exemplar: Exemplar): string {
  let length = 0;
  let pairs = '';
  for (const [name, value] of Object.entries(exemplar.labels)) {
    length += name.length + value.length;
    pairs += `${pairs === '' ? '' : ','}${name}="${escapeLabelValue(value)}"`;
  }
  if (length > EXEMPLAR_LABELS_MAX) return '';
  // Milliseconds, the precision the store records, in fixed notation as the format recommends.
  return ` # {${pairs}} ${formatFloat(exemplar.value)} ${exemplar.timestamp.toFixed(3)}`;
}

export const OPENMETRICS: TextFlavour = {
  header,
  exemplar: exemplarText,
  // The format's own type for target metadata: the info family `target`, first in the exposition.
  targetInfo: (labels) => `# TYPE target info\n# HELP target ${TARGET_HELP}\ntarget_info${labels} 1\n`,
  targetFirst: true,
  end: '# EOF\n',
};
