"""A real nginx for the tests that need one (never a mock): skipped with the reason when it is
not installed, and a failure under ``CI=true`` (where .ci/run installs it)."""

from __future__ import annotations

import os

import pytest

from pushlab.proxy import NginxMissingError, nginx_binary


@pytest.fixture(scope="module")
def nginx() -> str:
    """The path of the nginx binary."""
    try:
        return nginx_binary()
    except NginxMissingError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the nginx tests cannot run: {error}", pytrace=False)
        pytest.skip(str(error))
