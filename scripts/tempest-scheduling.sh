#!/bin/bash
# tempest-scheduling.sh - run Tempest's host-selection tests (aggregates, availability zones,
# hypervisors, services, quotas, simple tenant usage, server groups, servers on several hosts)
# against a running nova-ts, best one started with several fake hosts (--fake-hosts 3).
#
# It lets scripts/tempest-network.sh write tempest.conf (--conf-only: the base profile of
# /work/shared/tempest/run_tempest.sh plus networking), then sets for a multi-host cloud:
#   [compute] min_compute_nodes = the number of hypervisors the cloud lists (>= 2 lets
#             tempest.api.compute.admin.test_servers_on_multinodes run instead of skipping)
#   [compute-feature-enabled] scheduler_enabled_filters = --filters (default: nova-ts's
#             default filters, under Nova's names; Tempest skips tests of filters not listed)
# and runs `tempest run` in the workspace. Last line: "N passed, N failed, N skipped".
#
#   cd /work/main && node --import tsx src/main.ts --data-dir /tmp/c --listen 127.0.0.1:23774 --driver fake --fake-hosts 3 &
#   OS_CLIENT_CONFIG_FILE=/tmp/c/clouds.yaml scripts/tempest-scheduling.sh --cloud nova-ts \
#     --image tiny-linux --workspace /tmp/tempest-sched
#
# Options: --cloud NAME, --workspace DIR (required; see tempest-network.sh on reuse), --regex RE
# (default: the issue's sets, see SETS below), --exclude-list FILE, --concurrency N (default 2),
# --image NAME, --flavor NAME, --network NAME, --filters LIST (comma-separated), --conf-only.
set -euo pipefail
HERE=$(dirname "$(realpath "$0")")
SETS='tempest\.api\.compute\.(admin\.test_(aggregates|availability_zone|hypervisor|services|quotas|simple_tenant_usage|servers_on_multinodes|create_server|server_groups)|servers\.test_server_group|test_quotas|servers\.test_availability_zone)'
CLOUD=${OS_CLOUD:-}; WS=""; REGEX=$SETS; EXCLUDE=""; CONC=2; CONF_ONLY=""
FILTERS=AvailabilityZoneFilter,ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,SameHostFilter,DifferentHostFilter,AggregateInstanceExtraSpecsFilter,AggregateMultiTenancyIsolation
NARGS=()
while [ $# -gt 0 ]; do
  case $1 in
    --cloud) CLOUD=$2; shift 2;;          --workspace) WS=$2; shift 2;;
    --regex) REGEX=$2; shift 2;;          --exclude-list) EXCLUDE=$(realpath "$2"); shift 2;;
    --concurrency) CONC=$2; shift 2;;     --filters) FILTERS=$2; shift 2;;
    --image|--flavor|--network) NARGS+=("$1" "$2"); shift 2;;
    --conf-only) CONF_ONLY=1; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
[ -n "$WS" ] || { echo "--workspace DIR is required" >&2; exit 2; }
mkdir -p "$WS"; WS=$(realpath "$WS")

CARGS=(--workspace "$WS" --conf-only "${NARGS[@]}")
[ -n "$CLOUD" ] && CARGS+=(--cloud "$CLOUD")
"$HERE/tempest-network.sh" "${CARGS[@]}"

PYTHONPATH="$HERE" WS="$WS" FILTERS="$FILTERS" /usr/bin/python3 - <<'EOF'
import os
from tempest_conf import TempestConf
env = os.environ
conf = TempestConf(env["WS"])
n = len(conf.get(conf.endpoint("compute") + "/os-hypervisors")["hypervisors"])
conf.put("compute", "min_compute_nodes", str(n))
conf.put("compute-feature-enabled", "scheduler_enabled_filters", env["FILTERS"])
conf.save()
print(f"scheduling settings in {conf.path}: min_compute_nodes = {n}, scheduler_enabled_filters = {env['FILTERS']}")
EOF
[ -n "$CONF_ONLY" ] && exit 0

. "$(dirname "$(realpath "$0")")/tempest-lib.sh"
tempest_run "$WS" "$REGEX" "$CONC" "$EXCLUDE"
