# Sourced after bench/lib.sh: prepares the container peers in $work, as the test user.
#   crun_bundle        a minimal OCI bundle (busybox-static, /bin/true, all seven namespaces)
#   podman_setup       a private podman rootless store with that rootfs imported as an image
# Each sets *_cmd to the command to time, or *_why to the reason it cannot run here.

crun_bundle() {
    local b=$work/bundle
    mkdir -p "$b/rootfs/bin"
    cp /bin/busybox "$b/rootfs/bin/busybox"
    ln -sf busybox "$b/rootfs/bin/true"
    ln -sf busybox "$b/rootfs/bin/sh"
    chown -R "$user" "$b"
    (cd "$b" && as_user crun spec --rootless)
    # /bin/true, no terminal, and a cgroup namespace too: the same seven namespaces as
    # `rsandbox run --unshare-all` and `bwrap --unshare-all`.
    python3 - "$b/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
if not any(n["type"] == "cgroup" for n in c["linux"]["namespaces"]):
    c["linux"]["namespaces"].append({"type": "cgroup"})
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
    mkdir -p "$work/crun-state" && chown "$user" "$work/crun-state"
    crun_cmd="crun --root $work/crun-state --cgroup-manager=disabled run --bundle $b rsbench"
    crun_why=""
    local err
    if ! err=$(cd "$work" && as_user_peer_ns timeout 60 $crun_cmd 2>&1); then
        crun_why="crun run failed here: $(echo "$err" | head -1)"
        crun_cmd=""
    fi
}

# podman's own state lives in $work: a containers.conf with cgroupfs and file events (no
# systemd user session here), overlay storage, and the image imported from the bundle's
# rootfs (no registry is reachable). The rootless pause process that keeps podman's user
# namespace is killed at exit.
podman_setup() {
    local p=$work/podman
    podman_env=(env HOME="$p" XDG_RUNTIME_DIR="$p/run" XDG_CONFIG_HOME="$p/config" XDG_DATA_HOME="$p/data")
    podman_cmd=""
    podman_why=""
    if ! command -v podman >/dev/null; then podman_why="podman is not installed"; return; fi
    if ! grep -q "^$user:" /etc/subuid; then podman_why="$user has no /etc/subuid range"; return; fi
    mkdir -p "$p/config/containers" "$p/run" "$p/data"
    chmod 700 "$p/run"
    cat >"$p/config/containers/containers.conf" <<CONF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
    cat >"$p/config/containers/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$p/data/storage"
runroot = "$p/run/storage"
CONF
    tar -C "$work/bundle/rootfs" -cf "$p/rootfs.tar" .
    chown -R "$user" "$p"
    on_exit "kill \$(cat '$p/run/libpod/tmp/pause.pid' 2>/dev/null) 2>/dev/null"
    # podman's lock file for the user's containers: ours alone unless it was there before.
    local lock=/dev/shm/libpod_rootless_lock_$uid
    [ -e "$lock" ] || on_exit "rm -f $lock"
    local err
    if ! err=$(cd "$work" && as_user_peer_ns "${podman_env[@]}" timeout 120 podman --log-level=error import "$p/rootfs.tar" localhost/rsbench-busybox 2>&1); then
        podman_why="podman import failed here: $(echo "$err" | tail -1)"
        return
    fi
    podman_cmd="podman --log-level=error run --rm --network none localhost/rsbench-busybox /bin/true"
    if ! err=$(cd "$work" && as_user_peer_ns "${podman_env[@]}" timeout 120 $podman_cmd 2>&1); then
        podman_why="podman run failed here: $(echo "$err" | tail -1)"
        podman_cmd=""
    fi
}
