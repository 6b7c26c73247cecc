"""The page's radio gauge (``servers/static/radio.js``) agrees with the bench's model
(``bench/analysis/radio.py``), timeline by timeline, run in Node.

Without Node the test skips locally and fails under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pushlab.bench.analysis.radio import IDLE, Timeline, radio_use, state_power_w
from pushlab.bench.analysis.radio_traffic import WriteSizes, traffic
from pushlab.radio_profiles import PROFILES

RADIO_JS = Path(__file__).resolve().parents[1] / "servers" / "static" / "radio.js"

TIMELINES = {
    "lone packet": Timeline.of([(5.0, 100, 0)]),
    "two inside one tail": Timeline.of([(5.0, 100, 0), (9.0, 0, 300)]),
    "polling every 1 s": traffic(
        "polling", 0.0, 60.0, poll_interval_s=1.0, sizes=WriteSizes(134, 291)
    ),
    "SSE at 0.1 msg/s": traffic("sse", 0.1, 90.0, sizes=WriteSizes(0, 99), seed=3),
    "long polling at 1 msg/s": traffic("longpoll", 1.0, 60.0, sizes=WriteSizes(147, 600)),
}
SPAN = (2.0, 80.0)


def node() -> str:
    found = shutil.which("node")
    if found is None:
        reason = "Node is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the radio.js test cannot run: {reason}", pytrace=False)
        pytest.skip(reason)
    return found


def run_in_node(tmp_path: Path, timelines: dict[str, Timeline]) -> dict[str, dict]:
    module = tmp_path / "radio.mjs"  # .mjs: an ES module whatever Node's version
    module.write_text(RADIO_JS.read_text())
    cases = {
        name: [
            {"t": float(t), "up": int(u), "down": int(d)}
            for t, u, d in zip(tl.at_s, tl.up_bytes, tl.down_bytes, strict=True)
        ]
        for name, tl in timelines.items()
    }
    profiles = {name: profile.as_json() for name, profile in PROFILES.items()}
    script = (
        f"import {{ radioUse, radioNow, radioGauge }} from {json.dumps(module.as_uri())};\n"
        f"const cases = {json.dumps(cases)}; const profiles = {json.dumps(profiles)};\n"
        "const out = {};\n"
        "for (const [name, events] of Object.entries(cases)) for (const [p, profile] of "
        f"Object.entries(profiles)) out[name + '|' + p] = {{ use: radioUse(events, profile, "
        f"{SPAN[0]}, {SPAN[1]}), now: radioNow(events, profile, {SPAN[1]}), "
        f"gauge: radioGauge(events, profile, {SPAN[1]}, {SPAN[0]}, 4) }};\n"
        "console.log(JSON.stringify(out));\n"
    )
    done = subprocess.run(
        [node(), "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_gauge_model_gives_the_benchs_energy_awake_time_and_promotions(
    tmp_path: Path,
) -> None:
    from_node = run_in_node(tmp_path, TIMELINES)
    for name, timeline in TIMELINES.items():
        for profile_name, profile in PROFILES.items():
            expected = radio_use(timeline, profile, *SPAN)
            got = from_node[f"{name}|{profile_name}"]["use"]
            assert got["energyJ"] == pytest.approx(expected.energy_j), (name, profile_name)
            assert got["awakeS"] == pytest.approx(expected.awake_s), (name, profile_name)
            assert got["promotions"] == expected.promotions, (name, profile_name)
            gauge = from_node[f"{name}|{profile_name}"]["gauge"]
            assert gauge["mJPerMessage"] == pytest.approx(expected.energy_j * 1000 / 4)


def test_the_gauge_says_awake_inside_a_tail_and_idle_after_it(tmp_path: Path) -> None:
    from_node = run_in_node(
        tmp_path,
        {
            "just now": Timeline.of([(SPAN[1] - 1.0, 100, 0)]),
            "long ago": Timeline.of([(3.0, 1, 0)]),
        },
    )
    assert from_node["just now|lte"]["now"]["awake"] is True
    assert from_node["just now|lte"]["now"]["powerMw"] > 1000
    assert from_node["long ago|lte"]["now"] == {
        "state": "idle",
        "powerMw": pytest.approx(1000 * state_power_w(PROFILES["lte"], IDLE)),
        "awake": False,
    }
