#!/usr/bin/env bash
# janus-run.sh DIR PORT API_SECRET [ADMIN_SECRET] — runs Janus (Debian's `janus`) in the foreground
# with a configuration folder of its own written into DIR/conf: only the VideoRoom plugin and
# the plain HTTP transport on 127.0.0.1:PORT (path /janus), no admin API, the API secret given
# (zhanye's `[video] janus_api_secret`), no event handlers or loggers, and the recordings'
# folders allowed anywhere but the system's. zhanye never starts Janus as a system service:
# `make run` and the tests start it through this script (docs/architecture.md, "Recording").
# Exec's janus, so the caller's pid is Janus's; its log goes to DIR/janus.log.
set -euo pipefail
dir=${1:?usage: janus-run.sh DIR PORT API_SECRET [ADMIN_SECRET]}
port=${2:?port}
secret=${3:?api secret}
admin=${4:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}
lib=${JANUS_LIB:-}
if [ -z "$lib" ]; then
  for d in /usr/lib/*/janus /usr/lib/janus /usr/local/lib/janus; do
    if [ -d "$d/plugins" ]; then
      lib=$d
      break
    fi
  done
fi
[ -n "$lib" ] || { echo "janus-run.sh: no Janus plugins folder (set JANUS_LIB)" >&2; exit 1; }
conf="$dir/conf"
mkdir -p "$conf"
chmod 700 "$dir" "$conf"
# every plugin and transport but the two we use
disable() { (cd "$lib/$1" && ls lib*.so 2>/dev/null | grep -v -e "$2" | paste -sd, -); }
cat >"$conf/janus.jcfg" <<CFG
general: {
	configs_folder = "$conf"
	plugins_folder = "$lib/plugins"
	transports_folder = "$lib/transports"
	events_folder = "$lib/events"
	loggers_folder = "$lib/loggers"
	debug_level = 4
	admin_secret = "$admin"
	api_secret = "$secret"
	session_timeout = 60
	server_name = "zhanye-janus"
	protected_folders = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sbin", "/sys", "/usr"]
}
certificates: {
}
media: {
}
nat: {
	ice_ignore_list = "vmnet"
}
plugins: {
	disable = "$(disable plugins libjanus_videoroom.so)"
}
transports: {
	disable = "$(disable transports libjanus_http.so)"
}
loggers: {
	disable = "$(cd "$lib/loggers" && ls lib*.so 2>/dev/null | paste -sd, -)"
}
events: {
	broadcast = false
}
CFG
cat >"$conf/janus.transport.http.jcfg" <<CFG
general: {
	json = "plain"
	base_path = "/janus"
	http = true
	port = $port
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_http = false
	admin_https = false
}
cors: {
}
CFG
# rooms are created by zhanye alone: it alone has the API secret (no admin_key needed)
cat >"$conf/janus.plugin.videoroom.jcfg" <<CFG
general: {
	lock_rtp_forward = true
}
CFG
chmod 600 "$conf"/*.jcfg
exec janus -F "$conf" -C "$conf/janus.jcfg" -o -L "$dir/janus.log" -N
