#!/bin/bash
# tempest-network.sh - run Tempest's networking tests (compute security groups,
# servers with networks, os-interface, Neutron networks/ports/security groups)
# against a running nova-ts.
#
# It lets /work/shared/tempest/run_tempest.sh write the base tempest.conf
# (identity v3, compute + image, dynamic credentials) with --conf-only, then
# turns networking on in that file:
#   [service_available] neutron = true
#   [network] project_network_cidr 198.19.0.0/16, mask bits 28 (test networks stay
#             in 198.18.0.0/15, clear of the seeded 198.18.0.0/20), no public network
#   [network-feature-enabled] api_extensions = the aliases the cloud advertises at
#             /v2.0/extensions, ipv6 off, floating IPs off, port_security on if advertised
#   [compute] fixed_network_name = private (the seeded shared network)
#   [compute-feature-enabled] interface_attach = true (off with --no-interface-attach)
#   [auth] create_isolated_networks = false (nova-ts has no routers/L3; Tempest's
#             per-project network setup always creates a router)
# and runs `tempest run` in the workspace. Last line: "N passed, N failed, N skipped".
#
#   cd /work/main && node --import tsx src/main.ts --data-dir /tmp/c --listen 127.0.0.1:23774 --driver fake &
#   OS_CLIENT_CONFIG_FILE=/tmp/c/clouds.yaml scripts/tempest-network.sh --cloud nova-ts \
#     --image tiny-linux --workspace /tmp/tempest-net-sg --regex 'tempest.api.compute.security_groups'
#
# Options: --cloud NAME, --workspace DIR (required; a Tempest workspace registered under the
# same name is replaced),
# --regex RE, --exclude-list FILE, --concurrency N (default 2), --image NAME,
# --flavor NAME, --network NAME (fixed_network_name, default private; "" for none),
# --no-interface-attach, --build-timeout S (default 300), --conf-only.
set -euo pipefail
RUNNER=${RUN_TEMPEST:-/work/shared/tempest/run_tempest.sh}
CLOUD=${OS_CLOUD:-}; WS=""; REGEX='tempest.api.compute.security_groups'; EXCLUDE=""; CONC=2
IMAGE=cirros; FLAVOR=m1.tiny; NETWORK=private; IFATTACH=true; BUILD_TIMEOUT=300; CONF_ONLY=""
while [ $# -gt 0 ]; do
  case $1 in
    --cloud) CLOUD=$2; shift 2;;          --workspace) WS=$2; shift 2;;
    --regex) REGEX=$2; shift 2;;          --exclude-list) EXCLUDE=$(realpath "$2"); shift 2;;
    --concurrency) CONC=$2; shift 2;;     --image) IMAGE=$2; shift 2;;
    --flavor) FLAVOR=$2; shift 2;;        --network) NETWORK=$2; shift 2;;
    --no-interface-attach) IFATTACH=false; shift;;
    --build-timeout) BUILD_TIMEOUT=$2; shift 2;;
    --conf-only) CONF_ONLY=1; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
[ -n "$WS" ] || { echo "--workspace DIR is required" >&2; exit 2; }
mkdir -p "$WS"; WS=$(realpath "$WS")

# The runner refuses (silently) a workspace name Tempest already has registered: a rerun in
# the same folder replaces the old registration.
tempest workspace remove --name "$(basename "$WS")" >/dev/null 2>&1 || true
CARGS=(--workspace "$WS" --image "$IMAGE" --flavor "$FLAVOR" --conf-only)
[ -n "$CLOUD" ] && CARGS+=(--cloud "$CLOUD")
"$RUNNER" "${CARGS[@]}"

PYTHONPATH="$(dirname "$(realpath "$0")")" WS="$WS" NETWORK="$NETWORK" IFATTACH="$IFATTACH" BUILD_TIMEOUT="$BUILD_TIMEOUT" /usr/bin/python3 - <<'EOF'
import os
from tempest_conf import TempestConf
env = os.environ
conf = TempestConf(env["WS"])
put = conf.put
net = conf.endpoint("network")
aliases = sorted(e["alias"] for e in conf.get(net + "/v2.0/extensions")["extensions"])

put("service_available", "neutron", "true")
put("auth", "create_isolated_networks", "false")
put("network", "project_network_cidr", "198.19.0.0/16")
put("network", "project_network_mask_bits", "28")
put("network", "public_network_id", "")
put("network", "floating_network_name", "")
put("network", "shared_physical_network", "false")
put("network-feature-enabled", "api_extensions", ",".join(aliases))
put("network-feature-enabled", "ipv6", "false")
put("network-feature-enabled", "ipv6_subnet_attributes", "false")
put("network-feature-enabled", "floating_ips", "false")
put("network-feature-enabled", "port_security", "true" if "port-security" in aliases else "false")
put("compute", "fixed_network_name", env["NETWORK"])
put("compute", "build_timeout", env["BUILD_TIMEOUT"])
put("compute-feature-enabled", "interface_attach", env["IFATTACH"])
conf.save()
print(f"networking enabled in {conf.path} (network {net}, extensions {','.join(aliases)})")
EOF
[ -n "$CONF_ONLY" ] && exit 0

. "$(dirname "$(realpath "$0")")/tempest-lib.sh"
tempest_run "$WS" "$REGEX" "$CONC" "$EXCLUDE"
