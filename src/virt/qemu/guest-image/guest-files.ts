/**
 * The tiny-linux userland's own files (init configuration, boot and shutdown scripts, the DHCP
 * event script, the ACPI power-button handler, a JSON flattener for meta_data.json), as text
 * kept in this module so the esbuild bundle carries them. Part of the image version: changing
 * any of this text makes ensureGuestImage build a new image.
 *
 * What the guest does at boot (rcS), in order, all reported on the console (ttyS0):
 * mounts proc/sys/dev; loads the kernel modules listed in /lib/modules/load-order; starts
 * acpid (power button -> poweroff); takes a DHCP lease on every NIC; starts the disk watcher
 * (DISK_WATCH: attached and detached virtio disks on the console); reads the config drive
 * (label config-2), else the metadata service when a NIC got a lease; sets the hostname (the
 * metadata hostname up to its first dot); installs public_keys into /root/.ssh/authorized_keys;
 * starts dropbear (new ed25519 host key) and busybox httpd on port 80; mounts /dev/vda
 * read-only at /mnt/root when it holds ext4; starts openstack/latest/user_data when it begins
 * with `#!` (output to the console); then prints the banner
 * `=== tiny-linux <hostname> up: <ipv4 addresses or "no network"> ===`.
 *
 * Shells: a respawning root shell on the console (ttyS0 when the kernel command line ends with
 * console=ttyS0), prompt `<hostname>:<dir># ` (PS1 in /etc/profile); and one on tty1, the VGA
 * screen (seen over VNC), after the banner. The kernel's messages go to the console only: with
 * `console=tty0 console=ttyS0` the serial log loses its first line (`Linux version ...`).
 *
 * The scripts are String.raw templates: they must not contain a dollar-brace sequence or a
 * backquote (the test checks that they parse with `sh -n`).
 */

export interface GuestFile {
  /** Path inside the initramfs, without the leading slash. */
  path: string;
  mode: number;
  text: string;
}

const RCS = String.raw`#!/bin/sh
# tiny-linux boot script, run once by busybox init (sysinit). Its output is the console log.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
HOME=/root
export PATH HOME
say() { echo "tiny-linux: $*"; }

/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run /tmp /var/log /mnt/config /mnt/root /www /root/.ssh /etc/dropbear
mount -t devpts devpts /dev/pts
chmod 1777 /tmp
chmod 700 /root /root/.ssh
say "starting $(cat /etc/tiny-linux-release)"

# Kernel modules, in dependency order (worked out when the image was built).
for m in $(cat /lib/modules/load-order); do
  insmod "/lib/modules/$m.ko" || say "could not load kernel module $m"
done

# The ACPI power button (QMP system_powerdown) powers the guest off: /etc/acpi/PWRF/00000080.
acpid -c /etc/acpi -l /var/log/acpid.log

HOST=tiny-linux
hostname "$HOST"

# A DHCP lease on every network device that has hardware behind it, all at once.
ip link set lo up
for d in /sys/class/net/*; do
  [ -e "$d/device" ] || continue
  n=$(basename "$d")
  ip link set "$n" up
  udhcpc -i "$n" -s /usr/share/udhcpc/default.script -t 3 -T 1 -A 10 -b -p "/run/udhcpc.$n.pid" >/dev/null 2>&1 &
done
wait
# Block devices: the ones there now, then every disk hot-plugged or unplugged, on the console.
# (Started after the wait above, which would otherwise wait for it.)
/usr/lib/tiny-linux/disk-watch &
IPS=$(ip -o -4 addr show | awk '$2 != "lo" { sub(/\/.*/, "", $4); printf "%s%s", sep, $4; sep = " " }')

# Metadata: the config drive, else the metadata service (only when a NIC got a lease).
MD=
CD=$(findfs LABEL=config-2 2>/dev/null)
if [ -n "$CD" ] && mount -t iso9660 -o ro "$CD" /mnt/config; then
  MD=/mnt/config/openstack/latest
  say "config drive $CD mounted at /mnt/config"
elif [ -n "$IPS" ]; then
  mkdir -p /run/metadata
  URL=http://169.254.169.254/openstack/latest
  # A few tries: the first packets may go out before the link is ready. (busybox 1.35's
  # wget -T crashes: timeout bounds it instead.)
  for try in 1 2 3; do
    if ERR=$(timeout 5 wget -q -O /run/metadata/meta_data.json "$URL/meta_data.json" 2>&1); then
      timeout 5 wget -q -O /run/metadata/user_data "$URL/user_data" 2>/dev/null || rm -f /run/metadata/user_data
      MD=/run/metadata
      say "metadata read from $URL"
      break
    fi
    rm -f /run/metadata/meta_data.json
    [ "$try" = 3 ] || sleep 1
  done
  [ -n "$MD" ] || say "no config drive, and the metadata service did not answer: $ERR"
else
  say "no config drive and no network: no metadata"
fi
: > /run/meta.flat
[ -n "$MD" ] && [ -f "$MD/meta_data.json" ] && awk -f /usr/lib/tiny-linux/json-flatten.awk "$MD/meta_data.json" > /run/meta.flat
# meta KEY: the value of a flattened meta_data.json key (public_keys.NAME, uuid, ...).
meta() { awk -F '\t' -v k="$1" '$1 == k { sub(/^[^\t]*\t/, ""); print; exit }' /run/meta.flat; }

H=$(meta hostname | cut -d . -f 1 | tr -cd 'A-Za-z0-9-' | cut -c 1-63)
[ -n "$H" ] && HOST=$H
hostname "$HOST"
echo "$HOST" > /etc/hostname
echo "127.0.1.1 $HOST" >> /etc/hosts

awk -F '\t' 'index($1, "public_keys.") == 1 { sub(/^[^\t]*\t/, ""); sub(/ +$/, ""); print }' /run/meta.flat > /root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys
say "installed $(grep -c . /root/.ssh/authorized_keys) ssh key(s) for root"

# SSH: a fresh ed25519 host key each boot; key logins only. In the background: making the key
# waits for the kernel's random pool, which takes a second or two under TCG without virtio-rng.
(
  if dropbearkey -t ed25519 -f /etc/dropbear/dropbear_ed25519_host_key > /run/hostkey.txt 2>&1; then
    dropbear -s -r /etc/dropbear/dropbear_ed25519_host_key -p 22 || say "dropbear did not start"
    {
      echo "-----BEGIN SSH HOST KEY FINGERPRINTS-----"
      grep '^Fingerprint' /run/hostkey.txt
      echo "-----END SSH HOST KEY FINGERPRINTS-----"
      echo "-----BEGIN SSH HOST KEY KEYS-----"
      grep '^ssh-' /run/hostkey.txt
      echo "-----END SSH HOST KEY KEYS-----"
    } > /run/hostkey.msg
    cat /run/hostkey.msg
    say "ssh server started"
  else
    say "could not make an ssh host key: $(cat /run/hostkey.txt)"
  fi
) &

# HTTP on port 80: a page naming the instance.
NAME=$(meta name)
[ -n "$NAME" ] || NAME=$HOST
UUID=$(meta uuid)
[ -n "$UUID" ] || UUID=unknown
esc() { printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }
{
  echo '<!DOCTYPE html>'
  echo "<html><head><title>$(esc "$NAME")</title></head><body>"
  echo "<h1>$(esc "$NAME")</h1>"
  echo "<p>name: $(esc "$NAME")</p>"
  echo "<p>uuid: $(esc "$UUID")</p>"
  echo "<p>hostname: $(esc "$HOST")</p>"
  echo '<p>served by tiny-linux</p></body></html>'
} > /www/index.html
httpd -p 80 -h /www

# The root disk, read-only, when it holds a filesystem (nothing depends on it).
if [ -b /dev/vda ] && [ "$CD" != /dev/vda ] && mount -t ext4 -o ro /dev/vda /mnt/root 2>/dev/null; then
  say "root disk /dev/vda mounted read-only at /mnt/root"
fi

# User data: run when it is a script; its output goes to the console.
if [ -n "$MD" ] && [ -s "$MD/user_data" ]; then
  if [ "$(head -c 2 "$MD/user_data")" = '#!' ]; then
    cp "$MD/user_data" /run/user-data
    chmod 700 /run/user-data
    say "running user data"
    (cd /root && /run/user-data; say "user data exited with status $?") < /dev/null > /dev/console 2>&1 &
  else
    say "user data is not a script (it does not start with #!): not run"
  fi
fi

say "boot took $(cut -d ' ' -f 1 /proc/uptime) s"
[ -n "$IPS" ] || IPS="no network"
# The banner, on the console and (for the login shell on tty1, the VNC screen) in /run/banner.
echo "=== tiny-linux $HOST up: $IPS ===" | tee /run/banner
`;

const RCK = String.raw`#!/bin/sh
# tiny-linux shutdown, run by busybox init before it stops every process and powers off.
echo "tiny-linux: shutting down"
killall dropbear httpd 2>/dev/null
umount /mnt/root /mnt/config 2>/dev/null
sync
`;

const INITTAB = `::sysinit:/etc/init.d/rcS
::respawn:/bin/busybox cttyhack /bin/sh -l
tty1::respawn:/usr/lib/tiny-linux/tty1-shell
::ctrlaltdel:/bin/busybox reboot
::shutdown:/etc/init.d/rcK
`;

const UDHCPC_SCRIPT = String.raw`#!/bin/sh
# udhcpc event script: applies a lease to $interface (address, routes, DNS, MTU).
EVENT=$1
case "$EVENT" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    if [ -n "$subnet" ]; then ifconfig "$interface" "$ip" netmask "$subnet"; else ifconfig "$interface" "$ip"; fi
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    if [ -n "$router" ]; then
      while route del default gw 0.0.0.0 dev "$interface" 2>/dev/null; do :; done
      for r in $router; do route add default gw "$r" dev "$interface" && break; done
    fi
    if [ -n "$staticroutes" ]; then
      set -- $staticroutes
      while [ $# -ge 2 ]; do ip route replace "$1" via "$2" dev "$interface"; shift 2; done
    fi
    if [ -n "$dns" ]; then
      : > /etc/resolv.conf.new
      [ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf.new
      for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf.new; done
      mv /etc/resolv.conf.new /etc/resolv.conf
    fi
    [ "$EVENT" = bound ] && echo "tiny-linux: $interface: DHCP lease of $ip from $serverid"
    ;;
esac
exit 0
`;

/**
 * Reports the guest's virtio disks on the console: one line per disk present when it starts,
 * then one per change, checked every second:
 * `=== disk vdb attached serial <serial or none> size <N> MiB ===` and `=== disk vdb detached ===`.
 */
const DISK_WATCH = String.raw`#!/bin/sh
# tiny-linux disk watcher: virtio disks appearing and disappearing, reported on the console.
line() {
  s=$(cat "/sys/block/$1/serial" 2>/dev/null)
  [ -n "$s" ] || s=none
  n=$(cat "/sys/block/$1/size" 2>/dev/null)
  [ -n "$n" ] || n=0
  echo "=== disk $1 attached serial $s size $((n / 2048)) MiB ==="
}
list() {
  for d in /sys/block/vd*; do [ -e "$d" ] && basename "$d"; done
}
old=
first=1
while :; do
  now=$(list | xargs)
  if [ "$now" != "$old" ]; then
    for d in $now; do
      case " $old " in *" $d "*) ;; *) line "$d" ;; esac
    done
    for d in $old; do
      case " $now " in *" $d "*) ;; *) echo "=== disk $d detached ===" ;; esac
    done
    [ -n "$first" ] && echo "tiny-linux: disks: $now"
    old=$now
  fi
  first=
  sleep 1
done > /dev/console 2>&1
`;

/** The first virtual terminal (the screen seen over VNC): the banner, then a root shell. */
const TTY1_SHELL = `#!/bin/sh
# tiny-linux: the root shell on tty1 (the VGA screen), after the boot banner.
echo
cat /run/banner 2>/dev/null
echo "tiny-linux: root shell on tty1 (the serial console has one too)"
exec /bin/sh -l
`;

const POWER_BUTTON = `#!/bin/sh
# busybox acpid runs this on the ACPI power button.
echo "tiny-linux: ACPI power button pressed: powering off" > /dev/console
poweroff
`;

/**
 * Flattens a JSON document to lines `path<TAB>value` for every string, number, true, false or
 * null in it: object keys joined with dots, array elements by index (`public_keys.mykey`,
 * `keys.0.name`, `meta.name`, `name`). In strings, \" \\ \/ are decoded, \n \r \t become
 * spaces, \b \f are dropped and \uXXXX is kept as written.
 */
const JSON_FLATTEN = String.raw`
function path(   p, k) {
  p = ""
  for (k = 1; k <= d; k++) p = p (k > 1 ? "." : "") (typ[k] == "[" ? idx[k] : key[k])
  return p
}
function str(   c, out) {
  i++; out = ""
  while (i <= n) {
    c = substr(s, i, 1)
    if (c == "\"") { i++; return out }
    if (c == "\\") {
      i++; c = substr(s, i, 1)
      if (c == "n" || c == "r" || c == "t") c = " "
      else if (c == "b" || c == "f") c = ""
      else if (c == "u") { c = "\\u" substr(s, i + 1, 4); i += 4 }
    }
    out = out c; i++
  }
  return out
}
{ s = s $0 "\n" }
END {
  n = length(s); i = 1; d = 0
  while (i <= n) {
    c = substr(s, i, 1)
    if (c == "{" || c == "[") { d++; typ[d] = c; idx[d] = 0; key[d] = ""; want[d] = (c == "{"); i++ }
    else if (c == "}" || c == "]") { d--; i++ }
    else if (c == ",") { if (typ[d] == "[") idx[d]++; else want[d] = 1; i++ }
    else if (c == "\"") {
      v = str()
      if (typ[d] == "{" && want[d]) { key[d] = v; want[d] = 0 } else print path() "\t" v
    }
    else if (c ~ /[-0-9tfn]/) {
      v = ""
      while (i <= n && substr(s, i, 1) ~ /[-+0-9.eEtruefalsn]/) { v = v substr(s, i, 1); i++ }
      print path() "\t" v
    }
    else i++
  }
}
`;

const PROFILE = String.raw`export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
export PS1='\h:\w\$ '
cd /root
`;

/** The files tiny-linux's userland adds to the initramfs (besides busybox, dropbear, libs, modules). */
export const GUEST_FILES: readonly GuestFile[] = [
  { path: 'etc/inittab', mode: 0o644, text: INITTAB },
  { path: 'etc/init.d/rcS', mode: 0o755, text: RCS },
  { path: 'etc/init.d/rcK', mode: 0o755, text: RCK },
  { path: 'usr/share/udhcpc/default.script', mode: 0o755, text: UDHCPC_SCRIPT },
  { path: 'etc/acpi/PWRF/00000080', mode: 0o755, text: POWER_BUTTON },
  { path: 'usr/lib/tiny-linux/json-flatten.awk', mode: 0o644, text: JSON_FLATTEN },
  { path: 'usr/lib/tiny-linux/disk-watch', mode: 0o755, text: DISK_WATCH },
  { path: 'usr/lib/tiny-linux/tty1-shell', mode: 0o755, text: TTY1_SHELL },
  { path: 'etc/profile', mode: 0o644, text: PROFILE },
  { path: 'etc/passwd', mode: 0o644, text: 'root:x:0:0:root:/root:/bin/sh\n' },
  { path: 'etc/shadow', mode: 0o600, text: 'root:*:19000:0:99999:7:::\n' },
  { path: 'etc/group', mode: 0o644, text: 'root:x:0:\n' },
  { path: 'etc/shells', mode: 0o644, text: '/bin/sh\n/bin/ash\n' },
  { path: 'etc/hosts', mode: 0o644, text: '127.0.0.1 localhost\n' },
];

/** The root disk's README (the ext4 filesystem on the qcow2 disk holds only this). */
export function diskReadme(version: string): string {
  return `tiny-linux ${version}: the nova-ts test guest.

The system runs from its initramfs; this disk is not needed to boot. The guest mounts it
read-only at /mnt/root when it is attached as /dev/vda.
`;
}
