"""bench/serve.py's report: the median round with each figure's spread over rounds, the distance of every
server from the floor, ratios to the other servers round by round, and the targets (met only in every round)."""

from __future__ import annotations

from bench.serve_cases import CASES, SERVERS, TARGETS, Case, Target

Row = dict[str, float]
Runs = dict[str, dict[str, list[Row]]]  # server -> case -> one row per round, in order


def middle_run(runs: list[Row]) -> Row:
    """The run with the median throughput, whole (its latencies stay those of one real run)."""
    ordered = sorted(runs, key=lambda run: run["requests_per_s"])
    return ordered[len(ordered) // 2]


def medians(runs: Runs) -> dict[str, dict[str, Row]]:
    """For each server and case, the round with the median throughput."""
    return {key: {name: middle_run(rows) for name, rows in by_case.items()} for key, by_case in runs.items()}


def of_floor(runs: Runs, key: str, case: Case) -> str:
    """A server's median throughput as a share of the floor's in the same case."""
    floor = runs.get("floor", {}).get(case.name)
    if not floor or key == "floor":
        return ""
    return f"{middle_run(runs[key][case.name])['requests_per_s'] / middle_run(floor)['requests_per_s']:.0%}"


def table_row(runs: Runs, key: str, case: Case) -> str:
    rows = runs[key][case.name]
    row = middle_run(rows)
    lowest, highest = (min(r["requests_per_s"] for r in rows), max(r["requests_per_s"] for r in rows))
    return (
        f"| {case.name} | {SERVERS[key].name} | {row['requests_per_s']:.0f} | {lowest:.0f}–{highest:.0f} | "
        f"{row['images_per_s']:.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | "
        f"{row['p99_ms'] / row['p50_ms']:.2f} | {of_floor(runs, key, case)} | {row['errors']:.0f} |"
    )


def markdown_table(runs: Runs) -> str:
    """One row per server and case: the median round, with the lowest and highest throughput over rounds."""
    lines = [
        "| case | server | requests/s | min–max over rounds | images/s | p50 ms | p99 ms | p99/p50 | of floor "
        "| non-2xx or socket errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for case in CASES:
        lines += [table_row(runs, key, case) for key, by_case in runs.items() if case.name in by_case]
    return "\n".join(lines)


def compared_case(case: Case, other: str) -> str:
    """The other server's case to compare with: the same case where it serves it (our service at another commit,
    our stack), else the case's baseline (the naive server reads PNGs as they are: its 28x28 case)."""
    return case.name if case.kind in SERVERS[other].kinds else case.compared_with


def round_ratios(runs: Runs, case: Case, other: str) -> list[float]:
    """Ours over ``other`` in each round (the servers of one round ran minutes apart; the machine's speed
    drifts more than that between rounds), against the case of ``other``'s that ``compared_case`` picks."""
    mine, theirs = runs["ours"][case.name], runs[other][compared_case(case, other)]
    return [a["requests_per_s"] / b["requests_per_s"] for a, b in zip(mine, theirs, strict=True)]


def ratios(runs: Runs) -> str:
    """Ours against each other server, median against median, then round by round (against the floor: the
    table's "of floor" column)."""
    lines = []
    for case in CASES:
        for other in [key for key in runs if key not in ("ours", "floor")]:
            theirs = compared_case(case, other)
            if case.name not in runs.get("ours", {}) or theirs not in runs.get(other, {}):
                continue
            median = middle_run(runs["ours"][case.name])["requests_per_s"]
            median /= middle_run(runs[other][theirs])["requests_per_s"]
            per_round = " / ".join(f"{ratio:.2f}" for ratio in round_ratios(runs, case, other))
            against = "" if theirs == case.name else f" in '{theirs}'"
            lines.append(
                f"- {case.name}: throughput {median:.2f}x {SERVERS[other].name}{against} (round by round: {per_round})"
            )
    return "\n".join(lines)


def target_values(runs: Runs, target: Target) -> list[float]:
    """The target's measure in each round."""
    if target.measure == "ratio":
        case = next(case for case in CASES if case.name == target.case)
        return round_ratios(runs, case, "naive")
    rows = runs["ours"][target.case]
    if target.measure == "p99_over_p50":
        return [row["p99_ms"] / row["p50_ms"] for row in rows]
    return [row[target.measure] for row in rows]


def targets(runs: Runs) -> str:
    """Each target with its value in every round; met only if the worst round meets it."""
    lines = ["| target | round by round | worst | met |", "| --- | --- | ---: | --- |"]
    for target in TARGETS:
        try:
            values = target_values(runs, target)
        except KeyError:  # a server or case left out of this run
            continue
        worst = max(values) if target.at_most else min(values)
        met = worst <= target.bound if target.at_most else worst >= target.bound
        sign = "≤" if target.at_most else "≥"
        unit = "x naive" if target.measure == "ratio" else target.measure.replace("_", " ")
        shown = " / ".join(f"{value:,.2f}" for value in values)
        lines.append(
            f"| {target.case}: {unit} {sign} {target.bound:g} | {shown} | {worst:,.2f} | {'yes' if met else 'NO'} |"
        )
    return "\n".join(lines)
