#!/bin/bash
# tempest-volume.sh - run Tempest's volume tests (compute volume attachments, boot from volume,
# Nova's os-volumes proxy, and the Block Storage v3 API subset nova-ts serves) against a
# running nova-ts.
#
# It lets scripts/tempest-network.sh write tempest.conf (--conf-only: the base profile of
# /work/shared/tempest/run_tempest.sh plus networking), then turns the volume service on:
#   [service_available] cinder = true
#   [volume] catalog_type = volumev3, min/max_microversion = the volume version document's
#            (3.0..3.70), storage_protocol/vendor_name as nova-ts's volume service reports
#   [volume-feature-enabled] api_v3, snapshot, clone on; backup, multi_backend,
#            extend_attached_volume, manage_volume, manage_snapshot, api_v2 off
#   [compute-feature-enabled] volume_multiattach = true, attach_encrypted_volume,
#            swap_volume, volume_backed_live_migration = false
#   [validation] run_validation = false (nothing SSHes into the guests)
# and runs `tempest run` in the workspace. Last line: "N passed, N failed, N skipped".
#
#   cd /work/main && node --import tsx src/main.ts --data-dir /tmp/c --listen 127.0.0.1:23774 --driver fake --fake-hosts 2 &
#   OS_CLIENT_CONFIG_FILE=/tmp/c/clouds.yaml scripts/tempest-volume.sh --cloud nova-ts \
#     --image tiny-linux --workspace /tmp/tempest-volume
#
# Default sets (SETS below): tempest.api.compute.volumes.*, compute.admin.test_volume*,
# ServersTestBootFromVolume, the volume-backed/volume-attached tests of test_server_actions, and
# tempest.api.volume's test_volumes_{get,list,actions,snapshots*,extend}, test_volume_delete_cascade,
# test_versions, test_availability_zone, test_volume_absolute_limits, admin.test_volume_quotas*.
# Expected failures today: AttachVolumeShelveTestJSON (nova-ts has no shelve) and
# test_volume_upload (no os-volume_upload_image).
#
# Options: --cloud NAME, --workspace DIR (required; see tempest-network.sh on reuse), --regex RE
# (default: the sets above), --exclude-list FILE, --concurrency N (default 2),
# --image NAME, --flavor NAME, --network NAME, --conf-only.
set -euo pipefail
HERE=$(dirname "$(realpath "$0")")
SETS='tempest\.api\.(compute\.(volumes\.|admin\.test_volume|servers\.test_create_server\.ServersTestBootFromVolume|servers\.test_server_actions.*[Vv]olume)|volume\.(test_volumes_get|test_volumes_list|test_volumes_actions|test_volumes_snapshots|test_volumes_extend|test_volume_delete_cascade|test_versions|test_availability_zone|test_volume_absolute_limits|admin\.test_volume_quotas))'
. "$HERE/tempest-lib.sh"
tempest_parse_options "$SETS" "$@"
tempest_network_conf

PYTHONPATH="$HERE" WS="$WS" /usr/bin/python3 - <<'EOF'
import os
from tempest_conf import TempestConf
conf = TempestConf(os.environ["WS"])
c, put = conf.c, conf.put
vol = conf.endpoint("volumev3")
# the versions document sits above /v3/<project_id>
vers = conf.get(vol.split("/v3")[0] + "/")
v3 = next(v for v in vers["versions"] if v["id"].startswith("v3"))

put("service_available", "cinder", "true")
put("volume", "catalog_type", "volumev3")
put("volume", "region", c["identity"].get("region", "RegionOne"))
put("volume", "min_microversion", v3.get("min_version") or "3.0")
put("volume", "max_microversion", v3.get("version") or "3.0")
put("volume", "build_timeout", "120")
put("volume", "volume_size", "1")
put("volume-feature-enabled", "api_v2", "false")
put("volume-feature-enabled", "api_v3", "true")
put("volume-feature-enabled", "backup", "false")
put("volume-feature-enabled", "snapshot", "true")
put("volume-feature-enabled", "clone", "true")
put("volume-feature-enabled", "multi_backend", "false")
put("volume-feature-enabled", "extend_attached_volume", "false")
put("volume-feature-enabled", "extend_attached_encrypted_volume", "false")
put("volume-feature-enabled", "manage_volume", "false")
put("volume-feature-enabled", "manage_snapshot", "false")
put("volume-feature-enabled", "volume_revert", "false")
put("compute-feature-enabled", "attach_encrypted_volume", "false")
put("compute-feature-enabled", "volume_multiattach", "true")
put("compute-feature-enabled", "swap_volume", "false")
put("compute-feature-enabled", "volume_backed_live_migration", "false")
put("validation", "run_validation", "false")
conf.save()
print(f"volumes enabled in {conf.path} (volume {vol}, microversions {c['volume']['min_microversion']}-{c['volume']['max_microversion']})")
EOF
[ -n "$CONF_ONLY" ] && exit 0

tempest_run "$WS" "$REGEX" "$CONC" "$EXCLUDE"
