"""A real nginx in front of a pushlab server: started by the project, stopped with the run.

Debian's ``nginx`` (1.22: HTTP/2, no HTTP/3) runs as a child process in the foreground
(``daemon off``), on free loopback ports, with its config generated into a temporary directory
by :mod:`pushlab.proxy_profiles` — never the system's config or service — the way the bench runs
its own ``redis-server``. For ``nginx-h2`` a certificate for ``localhost``/127.0.0.1 is made at
start with ``openssl req`` (browsers and clients must be told to accept it: it is nobody's CA).

``python -m pushlab.proxy --target 127.0.0.1:8000 --profile nginx-h2`` puts one in front of a
running server (the classroom page's, say) and prints its URL; Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from pushlab.proxy_profiles import PROFILE_NAMES, STATUS_PATH, TEMP_DIRS, Profile, nginx_conf
from pushlab.proxy_profiles import profile as profile_named

NGINX = "nginx"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
CERTIFICATE_DAYS = 2


class NginxMissingError(RuntimeError):
    """``nginx`` is not installed (``apt-get install nginx``)."""


def nginx_binary() -> str:
    found = shutil.which(NGINX) or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise NginxMissingError("nginx is not installed (apt-get install nginx)")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``localhost`` and 127.0.0.1: (certificate, key)."""
    certificate, key = directory / "localhost.crt", directory / "localhost.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt"),
            *("ec_paramgen_curve:prime256v1", "-nodes", "-days", str(CERTIFICATE_DAYS)),
            *("-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(certificate)),
        ],
        check=True,
        capture_output=True,
    )
    return certificate, key


@dataclass(frozen=True)
class Counters:
    """What nginx has done so far: ``stub_status``'s counters and its workers' CPU and I/O."""

    accepted: int  # client connections accepted
    requests: int  # client requests (an HTTP/2 stream is one)
    active: int  # client connections open now
    cpu_s: float  # the workers' user + system CPU (the kernel counts it in 10 ms ticks)
    client_bytes: int  # sent + received on the clients' connections open now (-1: unknown)


@dataclass
class RunningNginx:
    process: subprocess.Popen[bytes]
    profile: Profile
    port: int
    status_port: int
    prefix: Path
    host: str = "127.0.0.1"  # where it listens
    status_readings: int = 0  # the counters' own connections and requests, to leave out

    @property
    def url(self) -> str:
        return f"{self.profile.scheme}://{self.reachable_host}:{self.port}"

    @property
    def reachable_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host

    @property
    def certificate(self) -> Path:
        return self.prefix / "localhost.crt"

    def workers(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()

    def counters(self) -> Counters:
        """Read now. Each reading is itself one accepted connection and one request: the
        ``accepted`` and ``requests`` given here leave out every reading so far."""
        url = f"http://127.0.0.1:{self.status_port}{STATUS_PATH}"
        with urllib.request.urlopen(url, timeout=STOP_TIMEOUT_S) as answer:
            lines = answer.read().decode().splitlines()
        accepted, _handled, requests = (int(word) for word in lines[2].split())
        cpu_s = 0.0
        for worker in self.workers():
            with contextlib.suppress(psutil.Error):
                times = worker.cpu_times()
                cpu_s += times.user + times.system
        self.status_readings += 1
        active = int(lines[0].split(":")[1]) - 1
        readings = self.status_readings
        client_bytes = socket_bytes(self.port)
        return Counters(accepted - readings, requests - readings, active, cpu_s, client_bytes)

    def stop(self) -> None:
        """SIGTERM (nginx's fast shutdown: open connections are closed, not drained)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.prefix, ignore_errors=True)


def socket_bytes(local_port: int) -> int:
    """Bytes sent and received so far on the established TCP connections to ``local_port``, as
    the kernel counts them (``ss -ti``: ``bytes_sent``, ``bytes_received``; TLS records and
    HTTP/2 frames as they went). Only connections open now: a difference between two readings
    is the traffic in between if the connections lasted (the bench's clients keep theirs).
    -1 without ``ss`` (iproute2)."""
    try:
        listing = subprocess.run(
            ["ss", "-tinH", "state", "established", f"( sport = :{local_port} )"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return -1
    total = 0
    for word in listing.split():
        name, _, value = word.partition(":")
        if name in ("bytes_sent", "bytes_received") and value.isdigit():
            total += int(value)
    return total


def wait_until_up(nginx: RunningNginx) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if nginx.process.poll() is not None:
            error = (nginx.prefix / "error.log").read_text(errors="replace").strip()
            raise RuntimeError(f"nginx exited with status {nginx.process.returncode}: {error}")
        with contextlib.suppress(OSError):
            socket.create_connection((nginx.reachable_host, nginx.port), timeout=0.5).close()
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"nginx did not listen on port {nginx.port}")
        time.sleep(0.05)  # polling a port that has no event to await


def start_nginx(
    profile: Profile | str,
    upstream: str,
    *,
    read_timeout_s: float | None = None,
    ignore_accel_buffering: bool = False,
    port: int | None = None,
    host: str = "127.0.0.1",
    cpus: frozenset[int] | None = None,
) -> RunningNginx:
    """A foreground nginx child in front of ``upstream`` (``host:port``), listening on
    ``host`` (loopback unless told otherwise); call ``stop()``."""
    chosen = profile_named(profile) if isinstance(profile, str) else profile
    binary = nginx_binary()
    prefix = Path(tempfile.mkdtemp(prefix="pushlab-nginx-"))
    prefix.chmod(0o755)  # started as root, the workers run as nobody: they must reach it
    for name in TEMP_DIRS:
        (prefix / name).mkdir(mode=0o777)
        (prefix / name).chmod(0o777)
    listen_port, status_port = port or free_port(), free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(
        nginx_conf(
            chosen,
            prefix=prefix,
            listen_port=listen_port,
            status_port=status_port,
            listen_host=host,
            upstream=upstream,
            read_timeout_s=read_timeout_s,
            ignore_accel_buffering=ignore_accel_buffering,
            certificate=make_certificate(prefix) if chosen.http2 else None,
        )
    )
    with (prefix / "error.log").open("wb") as error_log:  # nginx keeps its own copy open
        process = subprocess.Popen(
            [binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=error_log,
            start_new_session=True,  # Ctrl-C reaches its owner only, which stops it
        )
    nginx = RunningNginx(process, chosen, listen_port, status_port, prefix, host)
    try:
        wait_until_up(nginx)
        if cpus:
            for each in [psutil.Process(process.pid), *nginx.workers()]:
                each.cpu_affinity(sorted(cpus))
    except BaseException:
        nginx.stop()
        raise
    return nginx


@contextlib.contextmanager
def running_nginx(
    profile: Profile | str, upstream: str, **options: object
) -> Iterator[RunningNginx]:
    nginx = start_nginx(profile, upstream, **options)  # type: ignore[arg-type]
    try:
        yield nginx
    finally:
        nginx.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pushlab.proxy", description="Run nginx in front of a pushlab server."
    )
    parser.add_argument("--target", required=True, help="the server, host:port")
    parser.add_argument("--profile", choices=PROFILE_NAMES, default="nginx-tuned")
    parser.add_argument("--host", default="127.0.0.1", help="address nginx listens on")
    parser.add_argument("--port", type=int, default=0, help="nginx's port (0: a free one)")
    parser.add_argument("--read-timeout", type=float, help="proxy_read_timeout (s)")
    parser.add_argument(
        "--ignore-accel-buffering",
        action="store_true",
        help="buffer event streams even when the server says X-Accel-Buffering: no",
    )
    args = parser.parse_args(argv)
    try:
        nginx = start_nginx(
            args.profile,
            args.target,
            read_timeout_s=args.read_timeout,
            ignore_accel_buffering=args.ignore_accel_buffering,
            port=args.port or None,
            host=args.host,
        )
    except (NginxMissingError, RuntimeError, subprocess.CalledProcessError) as error:
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return 1
    print(f"pushlab proxy ({args.profile}) listening on {nginx.url}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        nginx.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        nginx.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
