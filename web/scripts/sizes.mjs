// Prints what each front end costs a browser (gzip), and fails the build when the widget outgrows its budget:
// the loader runs on every page of a customer's site, the chat on every visitor's first open.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const scripts = (dir) =>
  existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js') || f.endsWith('.css')).map((f) => join(dir, f)) : [];
const total = (files) => files.reduce((sum, f) => sum + gz(f), 0);
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

const budgets = [
  { name: 'loader (widget.js)', bytes: gz(join(dist, 'widget.js')), limit: 5 * 1024 },
  { name: 'chat (widget/, with socket.io-client)', bytes: total(scripts(join(dist, 'widget/assets'))), limit: 40 * 1024 },
];
const app = scripts(join(dist, 'app/assets'));
let failed = false;
console.log('\nKefu web sizes (gzip):');
for (const b of budgets) {
  const over = b.bytes > b.limit;
  failed ||= over;
  console.log(`  ${b.name.padEnd(42)} ${kb(b.bytes).padStart(9)}  (budget ${kb(b.limit)})${over ? '  OVER BUDGET' : ''}`);
}
if (app.length) console.log(`  ${'agents\' workspace (app/, all chunks)'.padEnd(42)} ${kb(total(app)).padStart(9)}`);
if (failed) {
  console.error('\nThe widget is over its size budget: see web/README.md.');
  process.exit(1);
}
