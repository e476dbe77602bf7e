/** Every message the package prints is one stderr line with this prefix, so users can grep it. */
const PREFIX = 'otel-django-metrics: ';

export type Logger = (message: string) => void;

export const logLine: Logger = (message) => {
  process.stderr.write(PREFIX + message + '\n');
};

/** Logs a message the first time its key is seen: warnings on hot paths must not flood the log. */
export function onceLogger(log: Logger = logLine): (key: string, message: string) => void {
  const seen = new Set<string>();
  return (key, message) => {
    if (seen.has(key)) return;
    seen.add(key);
    log(message);
  };
}
