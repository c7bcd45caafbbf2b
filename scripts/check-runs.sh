#!/usr/bin/env bash
# Issue 15: hold rootless-check's run predictions against a real dockerd.
#
#   bash scripts/check-runs.sh            # every case of tests/runs/cases.json
#   CHECK_RUNS_ONLY=tmpfs bash scripts/check-runs.sh   # the cases whose JSON holds the text
#
# Uses the test services' private dockerd (scripts/services.sh start: Debian's
# docker.io, vfs, no networking, the fixtures docker-loaded), runs every `--run`
# and compose case of tests/runs/cases.json for real (compose cases as the
# equivalent `docker run` flags the case gives: docker compose is not installed
# here; tests/runs.rs checks that the service and the flags read the same), and
# compares outcome, uid and gid with the prediction of the native CLI
# (`--format json`). `id` cases run `sh -c 'id -u; id -g'`; `s6` cases start the
# image's /init with --network none and watch it 12 s (running then = starts;
# exited = fails, with its log), the uid through `docker exec … id -u`.
# Every container is removed after a bounded wait.
#
# Results: target/check-runs.json and a table; exit 1 when a case disagrees.
# When dockerd cannot start here, it says so and exits 0 (nothing was compared).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
fixtures=${ROOTLESS_CHECK_FIXTURES:-$repo/../shared/fixtures}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}

env_file=$(bash scripts/services.sh start | tail -1)
available=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])).get("docker") or {}; print("yes" if d.get("available") else "no: " + str(d.get("reason", "no dockerd in env.json")))' "$env_file")
if [ "$available" != yes ]; then
  echo "check-runs: SKIPPED: dockerd could not start on this machine ($available); no prediction was compared with a real run" >&2
  exit 0
fi
export DOCKER_HOST=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["docker"]["host"])' "$env_file")
docker version --format '{{.Server.Version}}' >/dev/null

bin=${ROOTLESS_CHECK_BIN:-}
if [ -z "$bin" ]; then
  cargo build --quiet --bin rootless-check
  bin=$CARGO_TARGET_DIR/debug/rootless-check
fi

mkdir -p target
python3 - "$env_file" "$bin" "$fixtures" <<'PY'
import json, os, subprocess, sys, time, shlex

env_file, binary, fixtures = sys.argv[1:4]
env = json.load(open(env_file))
refs = {i["fixture"]: i["ref"] for i in env["docker"]["images"]}
cases = json.load(open("tests/runs/cases.json"))["cases"]
only = os.environ.get("CHECK_RUNS_ONLY")
if only:
    cases = [c for c in cases if only in json.dumps(c)]

def sh(args, timeout=60):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)

def predict(case):
    archive = f"{fixtures}/{case['fixture']}"
    if "compose" in case:
        args = [binary, "--compose", "tests/runs/compose.yml", "--format", "json", "--fail-on", "none", archive]
    else:
        args = [binary, "--run", case["run"], "--format", "json", "--fail-on", "none", archive]
    out = sh(args)
    report = json.loads(out.stdout)
    runs = report["runs"]
    if "compose" in case:
        runs = [r for r in runs if r["name"] == case["compose"]]
    return runs[0]

def real(case):
    flags = shlex.split(case.get("dockerRun", case.get("run", "")))
    # -i/-t need a terminal: not for these checks.
    flags = [f for f in flags if f not in ("-it", "-i", "-t")]
    flags = [("-u" + f[4:]) if f.startswith("-itu") else f for f in flags]
    ref = refs[case["fixture"]]
    if case["probe"] == "id":
        out = sh(["docker", "run", "--rm", "--network", "none", *flags, ref, "sh", "-c", "id -u; id -g"])
        if out.returncode == 125 or out.returncode == 126 or out.returncode == 127:
            return {"outcome": "refused", "message": out.stderr.strip()}
        if out.returncode != 0:
            return {"outcome": "fails", "message": (out.stdout + out.stderr).strip()}
        uid, gid = out.stdout.split()[:2]
        return {"outcome": "starts", "uid": int(uid), "gid": int(gid)}
    # s6: start /init, watch it.
    out = sh(["docker", "run", "-d", "--network", "none", *flags, ref])
    if out.returncode != 0:
        return {"outcome": "refused", "message": out.stderr.strip()}
    cid = out.stdout.strip()
    try:
        state = None
        for _ in range(24):
            time.sleep(0.5)
            state = json.loads(sh(["docker", "inspect", cid]).stdout)[0]["State"]
            if not state["Running"]:
                break
        result = {}
        if state["Running"]:
            time.sleep(6)
            state = json.loads(sh(["docker", "inspect", cid]).stdout)[0]["State"]
        if state["Running"]:
            ids = sh(["docker", "exec", cid, "sh", "-c", "id -u; id -g"])
            uid, gid = (ids.stdout.split() + ["?", "?"])[:2]
            result = {"outcome": "starts", "uid": int(uid) if uid.isdigit() else None, "gid": int(gid) if gid.isdigit() else None}
        else:
            logs = sh(["docker", "logs", cid])
            lines = [l for l in (logs.stdout + logs.stderr).splitlines() if " info: " not in l]
            result = {"outcome": "fails", "exitCode": state["ExitCode"], "message": "\n".join(lines)}
        return result
    finally:
        sh(["docker", "rm", "-f", cid], timeout=60)

rows, agree, limited = [], 0, 0
for case in cases:
    name = f"{case['fixture'].split('/')[-1]} " + (f"compose:{case['compose']}" if "compose" in case else f"--run {case['run']!r}")
    p = predict(case)
    r = real(case)
    checks = []
    if case.get("environment") and case["environment"] in r.get("message", ""):
        # This machine's limit, not the prediction's (see cases.json's about).
        limited += 1
        rows.append({"case": name, "predicted": {"outcome": p["outcome"], "uid": p["user"]["uid"], "gid": p["user"]["gid"], "message": p["message"]}, "real": r, "agree": None, "note": "not comparable here: " + case["environment"]})
        print(f"n/a  {name}: predicted {p['outcome']} uid={p['user']['uid']}; this dockerd refused it for its own limits ({case['environment']})")
        continue
    if True:
        checks.append(p["outcome"] == r["outcome"])
        if r["outcome"] == "starts":
            checks.append(p["user"]["uid"] == r.get("uid"))
            checks.append(p["user"]["gid"] == r.get("gid"))
        if r["outcome"] in ("refused", "fails") and p.get("message"):
            # Docker adds its prefix; every line of the prediction is in what it printed.
            checks.append(all(line in r.get("message", "") for line in p["message"].splitlines()))
    ok = all(checks)
    agree += ok
    rows.append({"case": name, "predicted": {"outcome": p["outcome"], "uid": p["user"]["uid"], "gid": p["user"]["gid"], "message": p["message"]}, "real": r, "agree": ok, "note": case.get("note")})
    print(f"{'ok  ' if ok else 'DIFF'} {name}: predicted {p['outcome']} uid={p['user']['uid']} gid={p['user']['gid']}; real {r['outcome']} uid={r.get('uid')} gid={r.get('gid')}" + ("" if ok else f"\n     real message: {r.get('message')!r}\n     predicted:    {p['message']!r}"))

compared = len(rows) - limited
summary = {"dockerd": env["docker"]["host"], "cases": len(rows), "compared": compared, "agree": agree, "notComparableHere": limited, "rows": rows}
json.dump(summary, open("target/check-runs.json", "w"), indent=2)
print(f"\ncheck-runs: {len(rows)} cases run against dockerd: {compared} compared, {agree} agree with the prediction; {limited} not comparable on this machine")
sys.exit(0 if agree == compared else 1)
PY
