#!/usr/bin/env bash
# Overlay: rsandbox's native overlayfs (--overlay with the upper layer on /dev/shm, and
# --tmp-overlay) vs fuse-overlayfs vs a plain bound directory, on a file-heavy workload, all on
# tmpfs, as the test user, in one hyperfine run per workload. Every variant runs inside
# `rsandbox run`, so the sandbox's own few ms are the same for all.
#   extract: untar ~20k small files into an empty directory/overlay, `find -type f | xargs stat`
#            (the count is checked), delete everything.
#   tree:    the same tree already in the lower layer: stat every file, append to 2,000
#            (copy-up), delete everything (whiteouts).
# Target: native >= 3x faster than fuse-overlayfs.
# Usage: bench/overlay.sh [files] [runs]   (as root: it drops to the test user; /dev/fuse is
# opened to the user for the run and its mode restored after)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
files=${1:-$([ "$quick" = 1 ] && echo 5000 || echo 20000)}
runs=${2:-$([ "$quick" = 1 ] && echo 1 || echo 3)}

shm=$(mktemp -d /dev/shm/rsandbox-bench.XXXXXX)
on_exit "rm -rf '$shm'"
chown "$user" "$shm"
fuse_why=""
if ! command -v fuse-overlayfs >/dev/null; then
    fuse_why="fuse-overlayfs is not installed"
elif [ ! -c /dev/fuse ]; then
    fuse_why="no /dev/fuse"
else
    mode=$(stat -c %a /dev/fuse)
    on_exit "chmod $mode /dev/fuse"
    chmod 666 /dev/fuse
fi

# The tree: $files files of 512 B-8 KiB in directories of 200, made once as the test user.
as_user /usr/bin/python3 - "$shm" "$files" <<'PY'
import os, random, sys, tarfile
shm, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
src = os.path.join(shm, "src")
for i in range(n):
    d = os.path.join(src, f"d{i // 200:03}")
    if i % 200 == 0:
        os.makedirs(d)
    with open(os.path.join(d, f"f{i:05}.txt"), "wb") as f:
        f.write(rng.randbytes(rng.randint(512, 8192)))
with tarfile.open(os.path.join(shm, "files.tar"), "w") as t:
    t.add(src, arcname=".")
PY
as_user sh -c "mv '$shm/src' '$shm/tree' && mkdir '$shm/empty' '$shm/plain' '$shm/up' '$shm/wk'"

cat >"$work/extract.sh" <<SH
#!/bin/sh
# extract.sh DIR: untar, stat every file (and count them), delete all.
set -e
cd "\$1"
tar --no-same-owner -xf '$shm/files.tar'
n=\$(find . -type f -print0 | xargs -0 stat -c x | wc -l)
[ "\$n" = $files ] || { echo "extract: \$n files, expected $files" >&2; exit 1; }
rm -rf ./*
[ -z "\$(ls -A)" ]
SH
cat >"$work/tree.sh" <<SH
#!/bin/sh
# tree.sh DIR: stat every file (and count them), append to 2,000 of them, delete all.
set -e
cd "\$1"
n=\$(find . -type f -print0 | xargs -0 stat -c x | wc -l)
[ "\$n" = $files ] || { echo "tree: \$n files, expected $files" >&2; exit 1; }
find . -type f | head -n 2000 | xargs sh -c 'for f; do echo appended >>"\$f"; done' sh
rm -rf ./*
[ -z "\$(ls -A)" ]
SH
# fuse.sh LOWER WORKLOAD: mounts fuse-overlayfs (upper and work dir on /dev/shm) at /mnt/o,
# runs the workload there, unmounts. Runs as uid 0 with CAP_SYS_ADMIN of the sandbox's user
# namespace (mounting needs it; rsandbox drops every capability unless asked); fuse-overlayfs is
# the sandbox's own child and dies with it.
cat >"$work/fuse.sh" <<SH
#!/bin/sh
set -e
mkdir /mnt/o
fuse-overlayfs -o "lowerdir=\$1,upperdir=$shm/up,workdir=$shm/wk" /mnt/o
sh "\$2" /mnt/o
fusermount3 -u /mnt/o
SH
chmod 755 "$work"/*.sh

box="$rs run --ro-bind / / --bind $shm $shm --tmpfs /mnt"
clean="sh -c 'chmod -R u+rwx $shm/up $shm/wk 2>/dev/null; rm -rf $shm/up $shm/wk; mkdir $shm/up $shm/wk'"
variant_cmd() {   # variant workload lower
    case $1 in
        plain) echo "$box -- $work/$2.sh $shm/plain" ;;
        native) echo "$box --overlay-src $3 --overlay $shm/up $shm/wk /mnt/o -- $work/$2.sh /mnt/o" ;;
        native-tmp) echo "$box --overlay-src $3 --tmp-overlay /mnt/o -- $work/$2.sh /mnt/o" ;;
        fuse) echo "$box --uid 0 --cap-add SYS_ADMIN --dev-bind /dev/fuse /dev/fuse -- $work/fuse.sh $3 $work/$2.sh" ;;
    esac
}
variant_prepare() {   # variant workload
    if [ "$1" = plain ] && [ "$2" = tree ]; then
        echo "sh -c 'rm -rf $shm/plain && cp -a $shm/tree $shm/plain'"
    else
        echo "$clean"
    fi
}
variants=(plain native native-tmp)
[ -z "$fuse_why" ] && variants+=(fuse)

cd "$work"
for w in extract tree; do
    lower=$shm/empty
    [ $w = tree ] && lower=$shm/tree
    # hyperfine pairs the names and the prepare commands with the commands in order.
    names=() prepares=() commands=()
    for v in "${variants[@]}"; do
        names+=(-n "$v")
        prepares+=(--prepare "$(variant_prepare $v $w)")
        commands+=("$(variant_cmd $v $w $lower)")
    done
    as_user timeout "$limit" hyperfine --runs "$runs" --export-json "$work/overlay-$w.json" \
        "${prepares[@]}" "${names[@]}" "${commands[@]}" >/dev/null
done
cd - >/dev/null
size=$(du -sm "$shm/tree" | cut -f1)
python3 - "$work" "$files" "$runs" "$size" "$fuse_why" <<'PY' | report overlay
import json, os, sys
work, files, runs, size, fuse_why = sys.argv[1:6]
res = {w: {x["command"]: x for x in json.load(open(os.path.join(work, f"overlay-{w}.json")))["results"]}
       for w in ("extract", "tree")}
names = ["plain", "native", "native-tmp", "fuse"]
what = {"plain": "a plain directory on /dev/shm, bound in",
        "native": "native overlayfs: --overlay-src L --overlay UPPER WORK D (upper on /dev/shm)",
        "native-tmp": "native overlayfs: --overlay-src L --tmp-overlay D (upper on a tmpfs, volatile)",
        "fuse": "fuse-overlayfs (upper on /dev/shm), mounted inside the same kind of sandbox"}
rows, checks = [], []
for n in names:
    if n not in res["extract"]:
        continue
    row = [n, what[n]]
    for w in ("extract", "tree"):
        x = res[w][n]
        row += [f"{x['median']:.2f}"]
        row += [f"{res[w]['fuse']['median'] / x['median']:.1f}x" if "fuse" in res[w] else "-"]
    rows.append(row)
if "fuse" in res["extract"]:
    for w in ("extract", "tree"):
        v = res[w]["fuse"]["median"] / res[w]["native"]["median"]
        checks.append({"what": f"{w}: fuse-overlayfs / native (--overlay)", "value": round(v, 1), "target": ">= 3", "met": v >= 3})
print(json.dumps({
    "title": f"Overlay: {files} small files ({size} MB) on tmpfs (hyperfine, {runs} run(s); medians, seconds)",
    "columns": ["variant", "what", "extract + stat + rm s", "fuse/this", "tree in lower: stat + copy-up 2,000 + rm s", "fuse/this"],
    "rows": rows, "checks": checks,
    "skipped": [{"what": "fuse-overlayfs", "why": fuse_why}] if fuse_why else [],
    "notes": ["each command runs in `rsandbox run --ro-bind / / --bind SHM SHM --tmpfs /mnt` (fuse also with "
              "--uid 0 --cap-add SYS_ADMIN and --dev-bind /dev/fuse, to mount); the workload checks the file count and that all is gone"],
    "raw": {w: {k: {f: v[f] for f in ("mean", "stddev", "median", "min", "max")} for k, v in r.items()} for w, r in res.items()}}))
PY
