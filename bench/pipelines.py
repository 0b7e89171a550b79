"""Pipeline benchmark client (see bench/pipelines): makes the monorepo,
links it, times deliveries to a step running, what artifacts add between
two steps, then runs wrk against a delivery that matches nothing.
Usage: python3 bench/pipelines.py URL DIR"""
import functools, hashlib, hmac, json, os, subprocess, sys, time, urllib.request
from datetime import datetime
from http.cookiejar import CookieJar

BASE, DIR = sys.argv[1], sys.argv[2]
print = functools.partial(print, flush=True)
jar = CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def call(method, path, body=None, headers=None, raw=None):
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Origin", BASE)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with opener.open(req, timeout=600) as resp:
        text = resp.read()
        return json.loads(text) if text else None


def git(*args):
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")
    return subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@x", "-c", "init.defaultBranch=main",
                           "-C", REPO, *args], check=True, capture_output=True, env=env, text=True).stdout.strip()


def commit(path, text, message):
    full = os.path.join(REPO, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)
    git("add", "-A")
    git("commit", "-q", "-m", message)
    return git("rev-parse", "HEAD")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int((len(values) - 1) * p))]


REPO = os.path.join(DIR, "monorepo")
os.makedirs(REPO)
git("init", "-q")
for i in range(20):
    with open(os.path.join(REPO, f"s{i}.txt"), "w"):
        pass
    os.makedirs(os.path.join(REPO, ".kiln"), exist_ok=True)
    with open(os.path.join(REPO, f".kiln/s{i}.yml"), "w") as f:
        f.write(f"when:\n  branch: main\n  paths: ['services/s{i}/**']\nsteps:\n  - name: test\n    run: 'true'\n")
head = commit("docs/index.md", "0", "initial")

call("POST", "/api/v1/auth/register", {"username": "bench", "password": "correct horse"})
group = call("POST", "/api/v1/groups", {"slug": "bench"})["id"]
project = call("POST", "/api/v1/projects", {"slug": "mono", "group_id": group})["id"]
secret = call("PUT", f"/api/v1/projects/{project}/repository",
              {"url": REPO, "provider": "gitea"})["hook_secret"].encode()


def deliver(before, after, delivery):
    body = json.dumps({"ref": "refs/heads/main", "before": before, "after": after,
                       "head_commit": {"message": "m", "author": {"username": "b"}}}).encode()
    sig = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return call("POST", f"/hooks/gitea/{project}", raw=body,
                headers={"X-Gitea-Event": "push", "X-Gitea-Delivery": delivery, "X-Gitea-Signature": sig})


def ms(ts):
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000


latencies, answered_in = [], []
for n in range(41):
    after = commit(f"services/s{n % 20}/f.txt", str(n), f"touch s{n % 20}")
    sent = time.time() * 1000
    answer = deliver(head, after, f"lat-{n}")
    if n:
        answered_in.append(time.time() * 1000 - sent)
    head = after
    assert len(answer["runs"]) == 1, answer
    while True:
        run = call("GET", f"/api/v1/runs/{answer['runs'][0]}")
        started = run["steps"][0].get("started_at")
        if started:
            break
        time.sleep(0.002)
    if n:  # the first warms the mirror and the caches
        latencies.append(ms(started) - sent)
print(f"webhook received -> first step running (warm mirror, 40 pushes): "
      f"p50 {pct(latencies, 0.5):.0f} ms, p99 {pct(latencies, 0.99):.0f} ms "
      f"(answered with the run id after p50 {pct(answered_in, 0.5):.0f} ms: fetch, diff, decide, create)")

# Artifacts: a run of two steps, the first making 1,000 small files and
# 10 MB, with and without `artifacts: [dist]` (archive, store, fetch,
# unpack happen inside the steps' attempts): whole-run time, start to end.
make = "mkdir -p dist && for i in $(seq 1000); do echo $i > dist/f$i; done && head -c 10000000 /dev/urandom > dist/blob"
for name, saved in (("plain", ""), ("art", "    artifacts: [dist]\n")):
    commit(f".kiln/{name}.yml", f"when:\n  event: [manual]\nsteps:\n  - name: build\n    run: {make}\n{saved}"
           "  - name: test\n    run: 'true'\n", f"pipeline {name}")
took = {}
for name in ("plain", "art", "plain", "art"):
    took.setdefault(name, [])
    for _ in range(4):
        run = call("POST", f"/api/v1/projects/{project}/pipelines/{name}/runs", {})
        while run["state"] == "running":
            time.sleep(0.02)
            run = call("GET", f"/api/v1/runs/{run['id']}")
        assert run["state"] == "success", run
        took[name].append(ms(run["finished_at"]) - ms(run["created_at"]))
        if name == "art":
            saved = run["steps"][0]["artifacts"]
print(f"artifacts ({saved['files']} files, {saved['bytes'] / 1e6:.1f} MB) saved by one step and restored for the next, "
      f"8 runs each: run p50 {pct(took['art'], 0.5):.0f} ms (max {max(took['art']):.0f}) against "
      f"{pct(took['plain'], 0.5):.0f} ms (max {max(took['plain']):.0f}) without artifacts")
head = git("rev-parse", "HEAD")

after = commit("docs/index.md", "nothing", "docs only")
body = json.dumps({"ref": "refs/heads/main", "before": head, "after": after,
                   "head_commit": {"message": "m", "author": {"username": "b"}}})
sig = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
script = os.path.join(DIR, "nomatch.lua")
with open(script, "w") as f:
    f.write(f"""
counter = 0
request = function()
  counter = counter + 1
  local headers = {{}}
  headers["Content-Type"] = "application/json"
  headers["X-Gitea-Event"] = "push"
  headers["X-Gitea-Signature"] = "{sig}"
  headers["X-Gitea-Delivery"] = "wrk-" .. tostring(counter) .. "-" .. tostring(math.random(1, 1000000000))
  return wrk.format("POST", "/hooks/gitea/{project}", headers, {json.dumps(body)})
end
""")
out = subprocess.run(["wrk", "-t", "1", "-c", "4", "-d", "10s", "-s", script, BASE],
                     capture_output=True, text=True).stdout
rps = next((l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec")), "?")
non2xx = next((l.strip() for l in out.splitlines() if "Non-2xx" in l), "all 2xx")
print(f"webhook requests/s for a push that matches no pipeline (wrk, 4 connections, 10 s): {rps} ({non2xx})")
