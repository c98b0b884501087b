#!/bin/bash
# The shell features that need processes, each with output that does not depend on timing:
# pipelines, command and process substitution, background jobs and wait, kill of a job,
# traps, set -e in a subshell, and exit statuses.
set -u
trap 'echo "exit trap ran"' EXIT
echo "pipeline: $(seq 1 20 | grep 1 | sort -rn | head -2 | tr '\n' ' ')"
nested=$(echo "outer $(echo inner | tr a-z A-Z)")
echo "nested: $nested"
while read -r line; do echo "substituted: $line"; done < <(printf 'x\ny\n')
sleep 0.1 & first=$!
(exit 7) & second=$!
wait "$first"; echo "first job: $?"
wait "$second"; echo "second job: $?"
sleep 30 & victim=$!
sleep 0.2
kill %3 2>/dev/null || kill "$victim"
wait "$victim"; echo "killed job: $?"
( set -e; false; echo "not reached" ); echo "set -e subshell: $?"
{ echo grouped; echo output; } | wc -l | tr -d ' '
echo "pid is a number: $([ "$$" -gt 0 ] && echo yes)"
f() { return 3; }; f; echo "function status: $?"
exit 4
