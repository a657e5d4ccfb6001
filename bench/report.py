#!/usr/bin/env python3
"""Results of the bench sections as JSON and Markdown (bench/results/).

  report.py section NAME   reads a section's result object on stdin, adds the date, the host and
                           the mode, writes results/NAME.json and results/NAME.md, prints the Markdown.
  report.py summary NAMES  joins the sections' files into results/summary.md and results/all.json
                           and puts the summary into bench/README.md between its markers.

A section's object: title, columns, rows (lists of cells), and optionally checks
([{what, value, target, met}]: the issue's targets), skipped ([{what, why}]: a peer that
could not run here, and why), notes (lines), raw (the tool's own data); or title and
not_yet (what is missing) or failed (the last lines the section printed).
"""
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
BEGIN, END = "<!-- last-results:begin -->", "<!-- last-results:end -->"


def host():
    cpus = os.cpu_count()
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"kernel": platform.release(), "cpus": cpus, "cpu": model,
            "load_average": os.getloadavg()[0]}


def markdown(r):
    out = [f"### {r['title']}", ""]
    if r.get("not_yet"):
        out.append(f"Not yet: {r['not_yet']}")
        return "\n".join(out) + "\n"
    if r.get("failed"):
        out.append(f"FAILED: {r['failed']}")
        return "\n".join(out) + "\n"
    cols = r["columns"]
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "|".join("---" for _ in cols) + "|")
    for row in r["rows"]:
        out.append("| " + " | ".join(str(c) for c in row) + " |")
    if r.get("checks"):
        out.append("")
        for c in r["checks"]:
            verdict = "met" if c["met"] else "NOT met"
            out.append(f"- {c['what']} = {c['value']} (target {c['target']}: {verdict})")
    if r.get("skipped"):
        out.append("")
        for s in r["skipped"]:
            out.append(f"- not measured: {s['what']}: {s['why']}")
    if r.get("notes"):
        out.append("")
        out.extend(f"- {n}" for n in r["notes"])
    return "\n".join(out) + "\n"


def section(name):
    r = json.load(sys.stdin)
    r["section"] = name
    r["date"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    r["quick"] = os.environ.get("RSANDBOX_BENCH_QUICK", "0") == "1"
    r["host"] = host()
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{name}.json"), "w") as f:
        json.dump(r, f, indent=1)
        f.write("\n")
    text = markdown(r)
    with open(os.path.join(RESULTS, f"{name}.md"), "w") as f:
        f.write(text)
    print(text)


def summary(names):
    parts, everything = [], {}
    for name in names:
        path = os.path.join(RESULTS, f"{name}.json")
        if not os.path.exists(path):
            continue
        r = json.load(open(path))
        everything[name] = r
        parts.append(markdown(r))
    first = next(iter(everything.values()), None)
    h = first["host"] if first else host()
    mode = "quick mode" if first and first.get("quick") else "default settings"
    when = first["date"].replace("T", " ").replace("Z", " UTC") if first else "never"
    head = (f"Run {when} on Linux {h['kernel']}, "
            f"{h['cpus']} CPUs ({h['cpu']}), load average {h['load_average']:.2f} at the start of "
            f"the first section, {mode}. Ratios within a table come from one run; absolute "
            f"times depend on the machine.\n")
    text = head + "\n" + "\n".join(parts)
    with open(os.path.join(RESULTS, "summary.md"), "w") as f:
        f.write(text)
    with open(os.path.join(RESULTS, "all.json"), "w") as f:
        json.dump(everything, f, indent=1)
        f.write("\n")
    readme = os.path.join(HERE, "README.md")
    if os.path.exists(readme):
        body = open(readme).read()
        if BEGIN in body and END in body:
            pre, rest = body.split(BEGIN, 1)
            _, post = rest.split(END, 1)
            with open(readme, "w") as f:
                f.write(pre + BEGIN + "\n" + text + END + post)
    print(text)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "section":
        section(sys.argv[2])
    elif len(sys.argv) >= 2 and sys.argv[1] == "summary":
        summary(sys.argv[2:])
    else:
        sys.exit(__doc__)
