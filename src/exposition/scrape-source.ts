import type { ExpositionFormat } from './negotiation.js';

/**
 * Offered a scrape's text each time a series has been appended to `out`: it may take (remove)
 * what is there to send it on, and returns a promise when the writer must wait for the reader.
 */
export type TakeParts = (out: string[]) => Promise<void> | undefined;

/**
 * Writes a whole exposition into `out`, in order, in `format` (default: the Prometheus text).
 * Without `take` the text accumulates; with it, a response can send the text on as it grows, so
 * no scrape ever holds its whole body at once.
 */
export type ScrapeSource = (out: string[], take?: TakeParts, format?: ExpositionFormat) => Promise<void>;

/**
 * Global, like the distribution slot: another loaded copy of the package streams our scrapes too.
 * The key names sources that write every format: a copy from before formats existed has none
 * under it, so its scrapes are served as text (its sources would ignore the format).
 */
const kSource = Symbol.for('otel-django-metrics.scrape-source.formats');

type Scrape = () => Promise<string>;

/**
 * `Distribution.scrape`: the exposition as one string (tests, testing utilities), carrying its
 * source so that the metrics endpoints can stream the same text instead.
 */
export function scrapeFunction(source: ScrapeSource): Scrape {
  const scrape = async (): Promise<string> => {
    const out: string[] = [];
    await source(out);
    return out.join('');
  };
  return Object.assign(scrape, { [kSource]: source });
}

/** Sources that only have a scrape's text: they write the Prometheus text whatever is asked. */
const textOnly = new WeakSet<ScrapeSource>();

/** The source behind a scrape function; one without (made elsewhere) yields its text as one part. */
export function sourceOf(scrape: Scrape): ScrapeSource {
  const source = (scrape as Scrape & { [kSource]?: ScrapeSource })[kSource];
  if (source !== undefined) return source;
  const text: ScrapeSource = async (out) => void out.push(await scrape());
  textOnly.add(text);
  return text;
}

/** Whether `source` writes the formats it is asked for (else only the Prometheus text). */
export function writesEveryFormat(source: ScrapeSource): boolean {
  return !textOnly.has(source);
}
