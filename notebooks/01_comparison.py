# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: pushlab (.venv)
#     language: python
#     name: pushlab
# ---

# %% [markdown]
# # 01 · Four ways to get news to a browser, measured side by side
#
# > **中文摘要**：本笔记本读取一次真实的基准测试结果（有 `results/latest` 就用它，否则用仓库里
# > 附带的小型真实样本 `results/sample`），逐张解释图表：请求数与空响应、消息送达延迟、
# > 每条消息的字节数、服务器每个客户端的 CPU 与内存、以及丢失的消息。每张图后面都说明它
# > 为什么长这个样子；文中的所有数字都由数据现算，不是手写的。

# %% [markdown]
# pushlab's bench (`make bench`, or `pushlab bench`) runs the four techniques — ajax
# (short) polling, long polling, WebSocket and Server-Sent Events — against the same feed of
# messages, with the same number of simulated clients, and records what each one cost and
# delivered. This notebook walks through one run's figures. They are drawn by the same
# functions that draw the bench's `report.md` (`bench/presentation/`), and every number in the text
# is computed from the run's files when the notebook runs: rerun it after your own `make bench`
# and the text follows your machine.
#
# Which run? `results/latest` if you have made one, else `results/sample` — a small real run
# committed with the repository (made by `pushlab bench`, never edited by hand). Set the
# environment variable `PUSHLAB_RESULTS` to read another directory.

# %%
# %matplotlib inline
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from pushlab.bench.analysis import model
from pushlab.bench.analysis.findings import findings
from pushlab.bench.analysis.results import load_results
from pushlab.bench.analysis.shaping import (
    default_publish_rate,
    flag_reason,
    flagged,
    in_table_order,
    largest_common_clients,
)
from pushlab.bench.notebooks import results_dir, show
from pushlab.bench.presentation import distributions, report, sweeps, timeline
from pushlab.techniques import PUSHED, TECHNIQUES, label

results = load_results(results_dir())
summary = results.summary
environment = results.environment
if results.synthetic:
    display(Markdown("> **⚠ SYNTHETIC DATA — not a measurement.** Shapes only."))
display(
    Markdown(
        f"Reading **`{results.path}`**: {len(summary)} scenarios, measured on "
        f"{results.run_date} with `{environment.get('command', 'pushlab bench')}`."
    )
)
machine = {
    "CPU": environment.get("cpu_model"),
    "cores": environment.get("cpu_count", environment.get("cores")),
    "OS": environment.get("os"),
    "Python": environment.get("python"),
    "aiohttp": environment.get("aiohttp_version", environment.get("aiohttp")),
    "Locust": environment.get("locust_version", environment.get("locust")),
    "pushlab commit": str(environment.get("git_commit", ""))[:12] or None,
}
display(pd.Series({k: v for k, v in machine.items() if v}, name="measured on").to_frame())

# %% [markdown]
# Every figure below compares the techniques at the same load. Where one number per technique
# is quoted, it comes from the **clients sweep** at the largest client count that every
# technique reached, and at 1 message per second if the run measured it (the same choice the
# report makes).

# %%
clients_sweep = results.sweep("clients")
if clients_sweep.empty:
    raise RuntimeError(f"{results.path} has no clients sweep: run `make bench`")
rate = default_publish_rate(clients_sweep)
at_rate = clients_sweep[np.isclose(clients_sweep["publish_rate"], rate)]
clients = largest_common_clients(at_rate)
at_load = in_table_order(at_rate[at_rate["clients"] == clients])
at_load["line"] = [
    label(t, i) for t, i in zip(at_load["technique"], at_load["poll_interval"], strict=True)
]
load = f"{clients:,.0f} clients and {rate:g} msg/s"
by_line = at_load.set_index("line")
display(Markdown(f"The comparison load: **{load}** ({len(at_load)} scenarios)."))

# %% [markdown]
# ## 0. What crosses the wire
#
# Before the numbers, a few real seconds of each technique, recorded by the bench: requests go
# up from the client to the server, answers and pushes come down, a star is a published
# message, a grey dashed arrow an empty answer. Polling asks on its own clock and mostly hears
# "nothing new"; a long poll is held at the server until a message exists; WebSocket and SSE
# open one connection and the server writes to it whenever a message is published.

# %%
if results.trace:
    show(timeline.plot_timeline, results.trace)
else:
    display(Markdown("_This run recorded no trace._"))

# %% [markdown]
# ## 1. Requests, and how many come back empty
#
# An HTTP request costs the server the same work (parse the request line and headers, route,
# answer, write headers) whether or not there is news. Polling makes requests on a clock: each
# client asks every T seconds, so requests per second grow as *clients ÷ T*, whatever the
# publish rate. Long polling makes about one request per delivered message (the server holds
# each until there is news). WebSocket and SSE make one request per client — the upgrade or
# the stream's GET — and then none at all, so their line is near zero during the measurement.
#
# `sweeps.plot_vs_clients(summary, column)` draws any column of `summary.csv` against the
# clients; its axis label and unit come from the column's own description (`row.COLUMNS`).
# A panel function returns the Axes it drew on; `.figure` is the figure to show.

# %%
show(lambda: sweeps.plot_vs_clients(summary, "requests_per_s").figure)


# %%
def value(line: str, column: str) -> float:
    return float(by_line.loc[line, column])


polling_lines = [
    line
    for line, name in zip(by_line.index, by_line["technique"], strict=True)
    if TECHNIQUES[name].polls
]
sentences = []
for line in polling_lines:
    interval = by_line.loc[line, "poll_interval"]
    arrivals = by_line.loc[line, "arrivals"]
    arrivals = arrivals if arrivals in ("poisson", "periodic") else "poisson"
    sentences.append(
        f"**{line}** made {value(line, 'requests_per_s'):,.1f} requests per second "
        f"(clients ÷ T = {clients / interval:,.1f}), and "
        f"{value(line, 'empty_fraction'):.0%} of them came back empty — the model says "
        f"{model.polling_empty_fraction(rate, interval, arrivals):.0%} for {arrivals} arrivals "
        f"at λ = {rate:g} msg/s (notebook 03 derives it, and shows how far a window of "
        f"{value(line, 'messages_published'):,.0f} messages can stray from it by chance)."
    )
for line in by_line.index.difference(polling_lines, sort=False):
    sentences.append(
        f"**{line}**: {value(line, 'requests_per_s'):,.2f} requests per second, "
        f"{value(line, 'requests_per_message'):.3g} per delivered message."
    )
display(Markdown(f"At {load}: " + " ".join(sentences)))

# %% [markdown]
# ## 2. Delivery latency
#
# Latency here is *receive time − publish time* of every message at every client (one machine,
# one clock). The figure is a CDF: for each latency on the x axis, the share of deliveries
# that arrived within it. Read across at 50% for the median, near the top for the tail.
#
# Polling's line is a ramp spread over a whole poll interval: a message waits for the next
# poll, anywhere between 0 and T. The others rise almost at once: a long poll is already waiting
# at the server, and a WebSocket or SSE connection is already open, so the message leaves the
# moment it is published and takes one transit.

# %%
show(lambda: distributions.plot_latency_cdf(results).figure)

# %%
medians = ", ".join(
    f"{line} {value(line, 'latency_p50_ms'):,.3g} ms (p99 {value(line, 'latency_p99_ms'):,.3g} ms)"
    for line in by_line.index
)
pushed = [line for line in by_line.index if line in {label(name) for name in PUSHED}]
fastest_push = min((value(line, "latency_p50_ms") for line in pushed), default=np.nan)
text = f"Median (and p99) delivery latency at {load}: {medians}."
if polling_lines and pushed:
    slowest_poll = max(polling_lines, key=lambda line: value(line, "latency_p50_ms"))
    ratio = value(slowest_poll, "latency_p50_ms") / fastest_push
    text += (
        f" The median of {slowest_poll} is {ratio:,.0f} times the fastest pushed median:"
        " polling's latency is waiting time, not network time."
    )
few = [line for line in polling_lines if value(line, "messages_published") < 30]
if few:
    text += (
        f" With only {value(few[0], 'messages_published'):,.0f} messages in the window of "
        f"{few[0]}, its ramp is a staircase: each step is one message, and a steep step "
        "means that many clients polled at nearly the same moment after that publish. A "
        "longer run (`make bench`) fills in the ramp."
    )
display(Markdown(text))

# %% [markdown]
# ## 3. Bytes per delivered message
#
# Every byte here was counted at the server's sockets, both directions, headers included. An
# HTTP request and its answer carry a request line and a dozen headers each way (`Host`,
# `Date`, `Server`, `Content-Type`…), a few hundred bytes, whether or not the answer holds a
# message, so an empty poll costs almost as much as a full one. A WebSocket frame adds 2 bytes
# of header to a message shorter than 126 bytes (notebook 02 takes one apart); an SSE event
# adds `id:` and `data:` lines. First the traffic as clients grow, then the cost of one
# delivered message.

# %%
show(lambda: sweeps.plot_vs_clients(summary, "traffic_kb_per_s").figure)

# %%
bytes_table = at_load[["line", "bytes_per_message", "requests_per_message", "empty_fraction"]]
display(
    bytes_table.rename(
        columns={
            "bytes_per_message": "bytes per delivered message",
            "requests_per_message": "requests per message",
            "empty_fraction": "empty answers",
        }
    )
    .style.hide(axis="index")
    .format(
        {
            "bytes per delivered message": "{:,.0f}",
            "requests per message": "{:.3g}",
            "empty answers": "{:.0%}",
        },
        na_rep="–",
    )
)
cheapest = bytes_table.loc[bytes_table["bytes_per_message"].idxmin()]
dearest = bytes_table.loc[bytes_table["bytes_per_message"].idxmax()]
display(
    Markdown(
        f"At {load}, a delivered message cost {dearest['bytes_per_message']:,.0f} bytes with "
        f"{dearest['line']} and {cheapest['bytes_per_message']:,.0f} with {cheapest['line']}: "
        f"{dearest['bytes_per_message'] / cheapest['bytes_per_message']:,.1f} times as much. "
        f"The difference is HTTP headers, paid once per request and answer: "
        f"{dearest['line']} made {dearest['requests_per_message']:.3g} requests per delivered "
        f"message, {cheapest['line']} {cheapest['requests_per_message']:.3g}."
    )
)

# %% [markdown]
# ## 4. Server CPU and memory per client
#
# **CPU.** Left: the server process's CPU (100% = one core busy). Right: the same divided by
# the messages delivered — what one message reaching one client costs. CPU follows requests:
# each one is parsed, routed and answered with headers, so the more requests a technique makes
# per message, the more it pays per message; a pushed frame skips all of that.
#
# **Memory.** A connection that stays open is not free: a socket with its kernel buffers, a
# handler task, an entry in the list of sockets to write to. Polling holds nothing between
# requests; long polling holds one parked request per client, WebSocket and SSE one open
# connection per client. The right panel divides the server's resident memory (RSS) by the
# connected clients.

# %%
show(sweeps.plot_cpu, summary)

# %%
show(sweeps.plot_memory, summary)

# %%
cpu_parts = ", ".join(
    f"{line} {value(line, 'cpu_us_per_message'):,.0f} µs" for line in by_line.index
)
memory_parts = ", ".join(
    f"{line} {value(line, 'rss_kb_per_client'):,.1f} KB" for line in by_line.index
)
display(
    Markdown(
        f"At {load}, server CPU per delivered message: {cpu_parts}. Memory per connected "
        f"client: {memory_parts}."
    )
)

# %% [markdown]
# ## 5. Missed messages
#
# Each client checks the ids it receives: they start where it joined and go up by one, so a
# jump is a **missed** message, a repeat a **duplicate**, a step back a **reordering**. None of
# the four techniques should lose a message here: polling and long polling ask with
# `since=<last id>` and get everything after it from the server's history; WebSocket and SSE
# deliver in order on one TCP connection (and SSE resumes with `Last-Event-ID`). A miss means
# something gave way — usually a client that could not connect (flagged below) or a history
# too short for a slow client.

# %%
integrity = summary[["scenario", "technique", "clients", "missed", "duplicated", "reordered"]]
damaged = integrity[(integrity[["missed", "duplicated", "reordered"]] > 0).any(axis=1)]
delivered = summary["messages_delivered"].sum()
if damaged.empty:
    display(
        Markdown(
            f"Across all {len(summary)} scenarios and {delivered:,.0f} deliveries: no message "
            "was missed, duplicated or reordered."
        )
    )
else:
    display(damaged.style.hide(axis="index").format({"clients": "{:,.0f}"}))
    display(
        Markdown(
            f"{len(damaged)} of {len(summary)} scenarios lost, repeated or reordered messages: "
            f"{damaged['missed'].sum():,.0f} missed, {damaged['duplicated'].sum():,.0f} "
            f"duplicated, {damaged['reordered'].sum():,.0f} reordered, out of "
            f"{delivered:,.0f} deliveries in the run."
        )
    )

# %% [markdown]
# ## 6. Rows to read with care
#
# A row is **flagged** when the load generator was saturated (its CPU near 100%: it sent and
# read late, so the server looks better or worse than it is) or when fewer clients connected
# than the scenario asked for. Flagged rows stay in every figure as hollow markers — shown,
# never dropped.

# %%
marked = summary[flagged(summary)]
if marked.empty:
    display(Markdown(f"None: all {len(summary)} scenarios reached their load."))
else:
    display(
        marked.assign(reason=marked.apply(flag_reason, axis=1))[
            ["scenario", "reason", "notes"]
        ].style.hide(axis="index")
    )

# %% [markdown]
# ## The whole run
#
# The report's own findings for this run (`bench/analysis/findings.py` words them,
# `bench/presentation/report.py` writes them into `report.md`), and the clients sweep, every
# row:

# %%
display(Markdown("\n".join(f"- {finding}" for finding in findings(results))))
display(Markdown(report.sweep_table(results, "clients")))
