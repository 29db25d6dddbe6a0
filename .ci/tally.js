#!/usr/bin/env node
// Usage: node .ci/tally.js REPORT.json...
// Prints "N passed, N failed" summed over jest JSON reports and smoke reports ({"passed","failed"}).
// A report that is missing or unreadable counts as one failure: its run broke before reporting.
'use strict';
const { readFileSync } = require('node:fs');

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    if (Array.isArray(report.testResults)) {
      // A jest suite that fails to load has no failed test of its own: count it as one failure.
      const broken = report.testResults.filter((suite) => suite.status === 'failed' && suite.assertionResults.length === 0).length;
      passed += report.numPassedTests;
      failed += report.numFailedTests + broken;
    } else {
      passed += report.passed;
      failed += report.failed;
    }
  } catch {
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
