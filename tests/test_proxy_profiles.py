"""The nginx profiles as configuration text (``pushlab/proxy_profiles.py``): no nginx needed.
tests/test_proxy.py checks what a real nginx does with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pushlab.proxy_profiles import PROFILES, SSE_PATH, nginx_conf, profile
from pushlab.techniques import LONGPOLL_MAX_HOLD_S


def conf(name: str, **options: object) -> str:
    certificate = (Path("/c.crt"), Path("/c.key"))
    return nginx_conf(
        PROFILES[name],
        prefix=Path("/tmp/p"),
        listen_port=1,
        status_port=2,
        upstream="127.0.0.1:3",
        certificate=certificate,
        **options,  # type: ignore[arg-type]
    )


def test_the_default_profile_keeps_nginxs_defaults() -> None:
    text = conf("nginx-default")
    for tuned_only in ("proxy_http_version", "set_header Upgrade", "keepalive", "proxy_buffering"):
        assert tuned_only not in text
    assert " ssl" not in text.split("listen", 1)[1].split(";", 1)[0]
    assert "proxy_read_timeout 60s;" in text


def test_the_tuned_profile_forwards_the_upgrade_and_streams_events_unbuffered() -> None:
    text = conf("nginx-tuned")
    assert "proxy_http_version 1.1;" in text and "keepalive" in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    sse_location = text.split(f"location {SSE_PATH} {{", 1)[1].split("}", 1)[0]
    assert "proxy_buffering off;" in sse_location
    timeout_s = float(text.split("proxy_read_timeout ", 1)[1].split("s;", 1)[0])
    assert timeout_s > LONGPOLL_MAX_HOLD_S


def test_the_h2_profile_listens_with_tls_and_http2_and_needs_a_certificate() -> None:
    assert "ssl http2;" in conf("nginx-h2")
    with pytest.raises(ValueError, match="certificate"):
        nginx_conf(
            PROFILES["nginx-h2"],
            prefix=Path("/p"),
            listen_port=1,
            status_port=2,
            upstream="127.0.0.1:3",
        )


def test_the_read_timeout_and_the_ignored_header_are_parameters() -> None:
    text = conf("nginx-default", read_timeout_s=3, ignore_accel_buffering=True)
    assert "proxy_read_timeout 3s;" in text
    assert "proxy_ignore_headers X-Accel-Buffering;" in text


def test_every_file_nginx_writes_stays_in_its_prefix() -> None:
    for line in conf("nginx-tuned").splitlines():
        if "_temp_path" in line or line.startswith("pid"):
            assert "/tmp/p/" in line


def test_an_unknown_profile_is_an_error_that_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="nginx-default, nginx-tuned, nginx-h2"):
        profile("apache")
