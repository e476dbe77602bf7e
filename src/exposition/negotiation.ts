/**
 * Which exposition format a scraper gets, from its `Accept` header (HTTP content negotiation,
 * RFC 9110 section 12.5.1): OpenMetrics 1.0 when the scraper prefers it, the Prometheus 0.0.4
 * text otherwise, so a scraper that says nothing, or something we cannot parse, keeps the format
 * it always had.
 */
export type ExpositionFormat = 'text' | 'openmetrics';

/** A media range of the header: type and subtype lowercased, its `version` parameter, its weight. */
interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly version: string | undefined;
  readonly q: number;
}

/** What we can write for a media type, and the `version` parameters that name it. */
interface Offer {
  readonly type: string;
  readonly subtype: string;
  readonly versions: readonly string[];
}

// OpenMetrics 0.0.1 was the format's name before 1.0.0 (Prometheus still asks for both); the
// 1.0.0 text is what either gets.
const OPENMETRICS: Offer = { type: 'application', subtype: 'openmetrics-text', versions: ['1.0.0', '0.0.1'] };
const TEXT: Offer = { type: 'text', subtype: 'plain', versions: ['0.0.4'] };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

export function negotiateFormat(accept: string | string[] | undefined): ExpositionFormat {
  if (accept === undefined) return 'text';
  const ranges = parseAccept(Array.isArray(accept) ? accept.join(',') : accept);
  const om = qualityOf(OPENMETRICS, ranges);
  // A tie keeps the text format: it is the default.
  return om > 0 && om > qualityOf(TEXT, ranges) ? 'openmetrics' : 'text';
}

/** The header's media ranges; a malformed one (no type/subtype, a bad q) is left out. */
function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const element of header.split(',')) {
    const range = parseRange(element);
    if (range !== undefined) ranges.push(range);
  }
  return ranges;
}

function parseRange(element: string): MediaRange | undefined {
  const [mediaType = '', ...params] = element.split(';');
  const slash = mediaType.indexOf('/');
  const type = mediaType.slice(0, slash).trim().toLowerCase();
  const subtype = mediaType.slice(slash + 1).trim().toLowerCase();
  if (slash < 0 || !TOKEN.test(type) || !TOKEN.test(subtype) || (type === '*' && subtype !== '*')) return undefined;
  let version: string | undefined;
  let q = 1;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0) return undefined;
    const name = param.slice(0, eq).trim().toLowerCase();
    const value = unquote(param.slice(eq + 1).trim());
    if (name === 'q') {
      if (!QVALUE.test(value)) return undefined;
      q = Number(value);
    } else if (name === 'version') {
      version = value;
    }
  }
  return { type, subtype, version, q };
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
}

/**
 * The weight the header gives an offer: that of the most specific range matching it (a version
 * we write, then the bare type, then `type/*`, then `*\/*`), the highest among equally specific
 * ones; 0 when none matches. Other parameters (charset, escaping) do not change what we write.
 */
function qualityOf(offer: Offer, ranges: readonly MediaRange[]): number {
  let bestSpecificity = -1;
  let q = 0;
  for (const range of ranges) {
    const specificity = specificityFor(offer, range);
    if (specificity < 0 || specificity < bestSpecificity) continue;
    q = specificity > bestSpecificity ? range.q : Math.max(q, range.q);
    bestSpecificity = specificity;
  }
  return q;
}

/** How specifically `range` names `offer` (higher is more specific), or -1 when it does not. */
function specificityFor(offer: Offer, range: MediaRange): number {
  if (range.type === '*') return 0;
  if (range.type !== offer.type) return -1;
  if (range.subtype === '*') return 1;
  if (range.subtype !== offer.subtype) return -1;
  if (range.version === undefined) return 2;
  return offer.versions.includes(range.version) ? 3 : -1;
}
