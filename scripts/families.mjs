// Prints the README's family table, generated from the compiled catalog (dist/views), so the
// README can never drift from what is exposed. `--write` replaces the block in README.md.
// Run `npm run build` first.
import { readFileSync, writeFileSync } from 'node:fs';
import { ALL_FAMILIES } from '../dist/views/index.js';

const README = new URL('../README.md', import.meta.url);
const START = '<!-- families:start -->';
const END = '<!-- families:end -->';

function labelsOf(family) {
  const names = family.buckets ? [...family.labels, 'le'] : family.labels;
  return names.length ? names.map((n) => `\`${n}\``).join(', ') : '–';
}

function typeOf(family) {
  return family.buckets ? `histogram (${family.buckets} buckets)` : family.type;
}

/** The markdown block, markers included. */
function familiesBlock() {
  const rows = ALL_FAMILIES.map((f) => `| \`${f.name}\` | ${typeOf(f)} | ${labelsOf(f)} | \`${f.help}\` |`);
  return [START, '| exposed name | type | labels | HELP |', '|---|---|---|---|', ...rows, END].join('\n');
}

/** README text with its families block replaced; throws when the markers are missing. */
function withBlock(readme) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} ... ${END} block`);
  return readme.slice(0, start) + familiesBlock() + readme.slice(end + END.length);
}

if (process.argv.includes('--write')) {
  writeFileSync(README, withBlock(readFileSync(README, 'utf8')));
} else {
  process.stdout.write(familiesBlock() + '\n');
}
