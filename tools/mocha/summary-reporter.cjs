// Mocha reporter: the usual spec output, plus the run's counts appended to $TEST_SUMMARY_FILE
// so `make test` can print one closing "N passed, N failed" line across all suites, and each
// failure's title and first error line appended to $TEST_FAILURES_FILE so that closing summary
// names them (CI shows only the tail of a long run).
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.on(Mocha.Runner.constants.EVENT_TEST_FAIL, (test, err) => {
      const file = process.env.TEST_FAILURES_FILE;
      if (!file) return;
      const firstLine = String((err && err.message) || err)
        .split('\n')[0]
        .slice(0, 300);
      fs.appendFileSync(file, `${test.fullTitle()}\n    ${firstLine}\n`);
    });
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const file = process.env.TEST_SUMMARY_FILE;
      if (!file) return;
      const { passes, failures, pending } = runner.stats;
      fs.appendFileSync(file, `${passes} ${failures} ${pending}\n`);
    });
  }
}
module.exports = SummaryReporter;
