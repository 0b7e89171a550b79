"""Summary of bench/compare's rounds: each side's median and spread, and
the median and range of the per-round ratio B/A (throughput), of the
slot time ratio and of the machine's CPU time per task (all processes;
the figure a faster or slower machine moves least). A ratio range that
straddles 1.0 is no evidence either way.

Usage: python3 bench/compare.py RESULTS BIN_A BIN_B
(RESULTS: one line per round, "A rate held cpu B rate held cpu")
"""
import math
import statistics
import sys

path, bin_a, bin_b = sys.argv[1], sys.argv[2], sys.argv[3]
rounds = []
for line in open(path):
    fields = line.split()
    if len(fields) != 8:
        continue
    a_rate, a_held, a_cpu = (float(v) for v in fields[1:4])
    b_rate, b_held, b_cpu = (float(v) for v in fields[5:8])
    rounds.append((a_rate, a_held, b_rate, b_held, a_cpu, b_cpu))
if not rounds:
    sys.exit("no rounds to summarise")


def spread(values):
    return f"median {statistics.median(values):.0f} (min {min(values):.0f}, max {max(values):.0f})"


print(f"A = {bin_a}: {spread([r[0] for r in rounds])} tasks/s")
print(f"B = {bin_b}: {spread([r[2] for r in rounds])} tasks/s")
ratios = sorted(r[2] / r[0] for r in rounds)
print(
    f"B/A throughput, paired by round: median {statistics.median(ratios):.3f}, "
    f"range {ratios[0]:.3f}-{ratios[-1]:.3f} over {len(ratios)} rounds"
)
held = sorted(r[3] / r[1] for r in rounds if not (math.isnan(r[1]) or math.isnan(r[3])))
if held:
    print(f"B/A time a step held its slot: median {statistics.median(held):.3f}")
cpus = [r for r in rounds if not (math.isnan(r[4]) or math.isnan(r[5]))]
if cpus:
    a_cpu = statistics.median(r[4] for r in cpus)
    b_cpu = statistics.median(r[5] for r in cpus)
    cpu_ratio = statistics.median(sorted(r[5] / r[4] for r in cpus))
    print(
        f"machine CPU a task: A median {a_cpu:.2f} ms, B median {b_cpu:.2f} ms; "
        f"B/A paired median {cpu_ratio:.3f}"
    )
