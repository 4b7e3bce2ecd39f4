# tempest-lib.sh - sourced by the tempest-*.sh runners.
#
# tempest_parse_options DEFAULT_REGEX ARGS...: parses the options of the runners that build on
# tempest-network.sh's tempest.conf (--cloud NAME, --workspace DIR (required), --regex RE,
# --exclude-list FILE, --concurrency N (default 2), --image/--flavor/--network NAME,
# --conf-only) into CLOUD (default $OS_CLOUD), WS (created, absolute), REGEX (default
# DEFAULT_REGEX), EXCLUDE (absolute), CONC, CONF_ONLY and NARGS (the --image/--flavor/--network
# pairs for tempest-network.sh). An option of the runner's own is offered first to the function
# tempest_option when the runner defines one: it takes the remaining arguments, returns 0 when
# it took the option and sets TEMPEST_SHIFT to how many arguments it used. Any other option, or
# a missing --workspace, exits 2 with a message on stderr.
tempest_parse_options() {
  REGEX=$1; shift
  CLOUD=${OS_CLOUD:-}; WS=""; EXCLUDE=""; CONC=2; CONF_ONLY=""
  NARGS=()
  while [ $# -gt 0 ]; do
    case $1 in
      --cloud) CLOUD=$2; shift 2;;          --workspace) WS=$2; shift 2;;
      --regex) REGEX=$2; shift 2;;          --exclude-list) EXCLUDE=$(realpath "$2"); shift 2;;
      --concurrency) CONC=$2; shift 2;;
      --image|--flavor|--network) NARGS+=("$1" "$2"); shift 2;;
      --conf-only) CONF_ONLY=1; shift;;
      *)
        if declare -F tempest_option >/dev/null && tempest_option "$@"; then shift "$TEMPEST_SHIFT"
        else echo "unknown option $1" >&2; exit 2; fi;;
    esac
  done
  [ -n "$WS" ] || { echo "--workspace DIR is required" >&2; exit 2; }
  mkdir -p "$WS"; WS=$(realpath "$WS")
}

# tempest_network_conf: lets tempest-network.sh (next to this file) write tempest.conf in WS
# (--conf-only) for CLOUD with the NARGS image/flavor/network; fails when it fails.
tempest_network_conf() {
  local args=(--workspace "$WS" --conf-only "${NARGS[@]}")
  if [ -n "$CLOUD" ]; then args+=(--cloud "$CLOUD"); fi
  "$(dirname "${BASH_SOURCE[0]}")/tempest-network.sh" "${args[@]}"
}

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
