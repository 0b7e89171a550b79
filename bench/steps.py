"""Per-step phases of a chain or fan-out on a running Kiln, read from the
step rows (claimed, ended) and the stamps of the step's first and last
`[kiln]` log notes, read through the API (a short log is kept in the
step's row, not in a file of the data directory). A step's end
(`finished_at`) is when its process ended and its slot went back: reading
its outputs, releasing its place, its last log note and recording the end
come after it. So "cleaned -> end" is a little below zero, and in a chain
"end -> dependent claimed" holds that bookkeeping.

Usage: python3 bench/steps.py URL chain|fan N
"""
import statistics
import sys
import time

from kiln_api import Api, ms

BASE, KIND, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
api = Api(BASE)
call = api.call


def line(name, values):
    if values:
        p99 = sorted(values)[int((len(values) - 1) * 0.99)]
        print(f"  {name:<34} mean {statistics.mean(values):6.2f} ms  p50 {statistics.median(values):5.1f}  p99 {p99:5.1f}")


call("POST", "/api/v1/auth/register", {"username": "bench", "password": "correct horse"})
group = call("POST", "/api/v1/groups", {"slug": "bench"})["id"]
project = call("POST", "/api/v1/projects", {"slug": "steps", "group_id": group})["id"]
needs = (lambda i: f"    needs: [t{i - 1}]\n" if i and KIND == "chain" else "")
source = "tasks:\n" + "".join(f"  t{i}:\n    run: 'true'\n" + needs(i) for i in range(N))
call("PUT", f"/api/v1/projects/{project}/workflows/steps", {"source": source})
for _ in range(2):  # the first warms caches
    run = call("POST", f"/api/v1/projects/{project}/workflows/steps/runs", {"params": {}})["id"]
    while (done := call("GET", f"/api/v1/runs/{run}"))["state"] == "running":
        time.sleep(0.25)
assert done["state"] == "success", done["state"]
steps = done["steps"]
first = min(ms(s["started_at"]) for s in steps)
last = max(ms(s["finished_at"]) for s in steps)
print(f"{KIND} of {N}: first claim to last end {last - first:.0f} ms = {(last - first) / N:.2f} ms a step, "
      f"{N / (last - first) * 1000:.0f} steps/s")
phases = {"claimed -> inputs ready": [], "inputs ready -> ran and cleaned": [], "cleaned -> end": []}
for step in steps:
    notes = api.text(f"/api/v1/runs/{run}/steps/{step['task']}/log?attempt={step['attempt']}").splitlines()
    noted = [ms(n.split(" ", 1)[0]) for n in notes if " K [kiln] " in n]
    claimed, ended = ms(step["started_at"]), ms(step["finished_at"])
    phases["claimed -> inputs ready"].append(noted[0] - claimed)
    phases["inputs ready -> ran and cleaned"].append(noted[-1] - noted[0])
    phases["cleaned -> end"].append(ended - noted[-1])
for name, values in phases.items():
    line(name, values)
line("claimed -> end", [ms(s["finished_at"]) - ms(s["started_at"]) for s in steps])
if KIND == "chain":
    chain = sorted(steps, key=lambda s: int(s["task"][1:]))
    line("end -> dependent claimed", [ms(b["started_at"]) - ms(a["finished_at"]) for a, b in zip(chain, chain[1:])])
