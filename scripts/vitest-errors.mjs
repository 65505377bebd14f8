// A vitest reporter that keeps what the JSON report leaves out: errors outside any test (an unhandled rejection,
// a test process that exited or hung) and the run's end reason. It writes them to $WEFT_VITEST_ERRORS so that
// scripts/test-summary.mjs can print them last, where CI's excerpt of the output shows them.
import { writeFileSync } from 'node:fs';

export default class ErrorsReporter {
  onTestRunEnd(testModules, unhandledErrors, reason) {
    const file = process.env.WEFT_VITEST_ERRORS;
    if (!file) return;
    const errors = unhandledErrors.map((e) => ({
      name: e?.name,
      message: e?.message,
      stack: e?.stack,
      testFile: e?.VITEST_TEST_PATH,
      test: e?.VITEST_TEST_NAME,
      cause: e?.cause ? String(e.cause.message ?? e.cause) : undefined,
    }));
    writeFileSync(file, JSON.stringify({ reason, errors }, null, 2));
  }
}
