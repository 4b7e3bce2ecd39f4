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
FILTERS=AvailabilityZoneFilter,ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,SameHostFilter,DifferentHostFilter,AggregateInstanceExtraSpecsFilter,AggregateMultiTenancyIsolation
tempest_option() {
  case $1 in
    --filters) FILTERS=$2; TEMPEST_SHIFT=2;;
    *) return 1;;
  esac
}
. "$HERE/tempest-lib.sh"
tempest_parse_options "$SETS" "$@"
tempest_network_conf

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

tempest_run "$WS" "$REGEX" "$CONC" "$EXCLUDE"
