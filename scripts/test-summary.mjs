// Prints the suite's closing line "N passed, N failed, N skipped" from vitest's JSON reports (read by CI).
// A file whose hooks or imports failed counts as failed even when none of its tests did, and its error is
// printed; errors outside any test that scripts/vitest-errors.mjs kept beside a report (`X.json` →
// `X-errors.json`) are printed too, and `--exit A,B` takes the runs' exit codes, so a non-zero exit with nothing
// failed is named here, last, instead of leaving only make's "Error 1".
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const exitAt = args.indexOf('--exit');
const exits = exitAt >= 0 ? args.splice(exitAt, 2)[1].split(',').map(Number) : [];

let passed = 0;
let failed = 0;
let skipped = 0;
let outside = 0;
for (const file of args) {
  if (!existsSync(file)) {
    failed++;
    console.error(`test-summary: no report at ${file} (the run did not finish)`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  for (const result of report.testResults ?? []) {
    const testsFailed = (result.assertionResults ?? []).some((a) => a.status === 'failed');
    if (result.status === 'failed' && !testsFailed) {
      failed++;
      const message = String(result.message || 'no message')
        .split('\n')
        .slice(0, 12)
        .join('\n  ');
      console.error(`test-summary: ${result.name} failed outside its tests (hook or import):\n  ${message}`);
    }
  }
  const errorsFile = file.replace(/\.json$/, '-errors.json');
  if (!existsSync(errorsFile)) continue;
  const { reason, errors } = JSON.parse(readFileSync(errorsFile, 'utf8'));
  for (const e of errors) {
    outside++;
    const where = e.testFile ? ` (from ${e.testFile}${e.test ? ` › ${e.test}` : ''})` : '';
    const stack = String(e.stack || '')
      .split('\n')
      .slice(1, 8)
      .join('\n  ');
    console.error(`test-summary: error outside the tests${where}: ${e.name}: ${e.message}`);
    if (e.cause) console.error(`  caused by: ${e.cause}`);
    if (stack) console.error(`  ${stack}`);
  }
  if (reason === 'interrupted') console.error(`test-summary: ${file}: the run was interrupted`);
}
exits.forEach((code, i) => {
  if (code !== 0 && failed === 0 && outside === 0) {
    console.error(
      `test-summary: vitest run ${i + 1} (${args[i] ?? '?'}) exited with ${code} although no test failed: ` +
        'an unhandled error in a test process, printed above under "Unhandled Errors"',
    );
  }
});
console.log(
  `${passed} passed, ${failed} failed, ${skipped} skipped${outside ? `, ${outside} errors outside tests` : ''}`,
);
