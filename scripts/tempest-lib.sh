# tempest-lib.sh - sourced by the tempest-*.sh runners.
#
# tempest_run WS REGEX CONCURRENCY [EXCLUDE_FILE]: runs `tempest run` in workspace WS, keeps
# last_run.txt, last.subunit and failing.txt there, and prints as its last line
# "N passed, N failed, N skipped".
tempest_run() {
  local ws=$1 regex=$2 conc=$3 exclude=${4:-}
  local args=(--regex "$regex" --concurrency "$conc")
  [ -n "$exclude" ] && args+=(--exclude-list "$exclude")
  (
    cd "$ws"
    set +e
    tempest run "${args[@]}" 2>&1 | tee "$ws/last_run.txt"
    stestr last --subunit > "$ws/last.subunit" 2>/dev/null
    stestr failing --list > "$ws/failing.txt" 2>/dev/null
    true
  )
  local p f s
  p=$(grep -oE 'Passed: [0-9]+' "$ws/last_run.txt" | tail -1 | grep -oE '[0-9]+' || echo 0)
  f=$(grep -oE ' Failed: [0-9]+' "$ws/last_run.txt" | tail -1 | grep -oE '[0-9]+' || echo 0)
  s=$(grep -oE 'Skipped: [0-9]+' "$ws/last_run.txt" | tail -1 | grep -oE '[0-9]+' || echo 0)
  echo "$p passed, $f failed, $s skipped"
}
