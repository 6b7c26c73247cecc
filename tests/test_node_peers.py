"""The Node peers' publisher draws the same Poisson gaps as pushlab's for the same seed, so every
server of a run sees the same arrivals (``peers/node/peer.js``, ``PythonRandom``)."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import urllib.error

import pytest

from pushlab.peers import node_peers
from tests.test_peers import call, running_peer

SEEDS = (0, 1, 42, 2**32 + 7, 2**64 - 1)


def node() -> str:
    found = shutil.which("node")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Node.js is not installed", pytrace=False)
        pytest.skip("Node.js is not installed")
    return found


@pytest.mark.parametrize("seed", SEEDS)
def test_a_seed_gives_the_same_exponential_gaps_as_python(seed: int) -> None:
    script = (
        f"const {{ PythonRandom }} = require({json.dumps(str(node_peers.SOURCES / 'peer.js'))});"
        f"const rng = new PythonRandom({seed}n);"
        "console.log(JSON.stringify(Array.from({length: 700}, () => rng.expovariate(20))));"
    )
    done = subprocess.run([node(), "-e", script], capture_output=True, text=True, check=True)
    python = random.Random(seed)
    expected = [python.expovariate(20) for _ in range(700)]
    assert json.loads(done.stdout) == pytest.approx(expected, rel=1e-12)  # Math.log vs libm: an ulp


def test_a_seed_node_cannot_read_exactly_is_refused_not_rounded() -> None:
    with running_peer("node-ws") as url, pytest.raises(urllib.error.HTTPError) as refused:
        call(f"{url}/publisher", {"publish_rate": 1, "seed": 2**60 + 1})
    assert refused.value.code == 400
    assert "2^53" in json.loads(refused.value.read())["error"]
