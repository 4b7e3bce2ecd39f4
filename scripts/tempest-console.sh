#!/bin/bash
# tempest-console.sh - run Tempest's console and certificate tests against a running nova-ts:
# the noVNC console through the console proxy (test_novnc: the page, the websocket upgrade, the
# RFB handshake, a bad token), os-getVNCConsole/remote-consoles URLs, console output, and
# os-certificates.
#
# It lets scripts/tempest-network.sh write tempest.conf (--conf-only), then sets
#   [compute-feature-enabled] vnc_console = true, nova_cert = true, console_output = true
#   [validation] run_validation = false
# and runs `tempest run` in the workspace. Last line: "N passed, N failed, N skipped".
#
#   cd /work/main && node --import tsx src/main.ts --data-dir /tmp/c --listen 127.0.0.1:23774 --driver fake &
#   OS_CLIENT_CONFIG_FILE=/tmp/c/clouds.yaml scripts/tempest-console.sh --cloud nova-ts \
#     --image tiny-linux --workspace /tmp/tempest-console
#
# Options: --cloud NAME, --workspace DIR (required), --regex RE, --exclude-list FILE,
# --concurrency N (default 2), --image NAME, --flavor NAME, --network NAME, --conf-only.
set -euo pipefail
HERE=$(dirname "$(realpath "$0")")
SETS='tempest\.api\.compute\.(servers\.test_novnc|certificates\.|servers\.test_server_actions\.ServerActionsTestJSON\.test_get_(vnc_console|console_output)|servers\.test_servers_negative\..*console)'
. "$HERE/tempest-lib.sh"
tempest_parse_options "$SETS" "$@"
tempest_network_conf

PYTHONPATH="$HERE" WS="$WS" /usr/bin/python3 - <<'PY'
import os
from tempest_conf import TempestConf
conf = TempestConf(os.environ["WS"])
put = conf.put
put("compute-feature-enabled", "vnc_console", "true")
put("compute-feature-enabled", "nova_cert", "true")
put("compute-feature-enabled", "console_output", "true")
put("validation", "run_validation", "false")
conf.save()
print(f"consoles and certificates enabled in {conf.path}")
PY
[ -n "$CONF_ONLY" ] && exit 0

tempest_run "$WS" "$REGEX" "$CONC" "$EXCLUDE"
