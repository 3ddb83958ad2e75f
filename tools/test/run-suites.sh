#!/usr/bin/env bash
# Runs the named mocha suites (.mocharc.<suite>.json) one after another, all of them even when
# one fails, then prints one closing line with the totals across suites.
set -uo pipefail
cd "$(dirname "$0")/../.."
summary=$(mktemp)
failures=$(mktemp)
export TEST_SUMMARY_FILE=$summary TEST_FAILURES_FILE=$failures
failed=()
for suite in "$@"; do
  echo "=== suite: $suite ==="
  started=$SECONDS
  npx mocha --config ".mocharc.$suite.json" || failed+=("$suite")
  echo "=== suite $suite took $((SECONDS - started)) s ==="
done
echo
if [ ${#failed[@]} -ne 0 ]; then
  echo "failed suites: ${failed[*]}"
  [ -s "$failures" ] && { echo "failed tests:"; sed 's/^/  /' "$failures"; }
fi
awk '{p+=$1; f+=$2; s+=$3} END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, s}' "$summary"
rm -f "$summary" "$failures"
[ ${#failed[@]} -eq 0 ]
