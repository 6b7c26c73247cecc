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
# # 03 · Polling on paper, and on this machine
#
# > **中文摘要**：本笔记本把轮询的简单数学模型和实测数据画在一起。轮询间隔为 T、消息到达率为 λ 时：
# > 平均延迟 ≈ T/2 + 一次传输时间；空响应比例 = e^(−λT)（泊松到达）；每条消息的请求数 = 1/(λT)。
# > 长轮询的延迟在 1 到 3 次传输之间，WebSocket 只要 1 次。我们逐一比较模型与测量值，
# > 用统计误差判断差别是不是噪声，并解释模型与测量分道扬镳的地方及其原因。

# %% [markdown]
# The questions of notebook 01 — how late, how many empty answers, how many requests per
# message — have answers you can work out on paper before measuring anything. This notebook
# derives them (the formulas live in `bench/analysis/model.py`, one function each, with their
# derivations in the docstrings), then holds them against the measurements of a bench run.
#
# | symbol | meaning | in `bench/analysis/model.py` |
# |---|---|---|
# | λ | messages published per second (every client receives every one) | `publish_rate` |
# | T | time between two polls of one polling client | `poll_interval_s` |
# | d | one-way transit, server → client, including both programs' handling | `transit_s` |
# | g | a long poll's gap: answer sent → the next request reaches the server | `reconnect_gap_s` |
#
# The figures are the same functions that draw the bench report (`bench/presentation/`): points are
# measurements, dashed lines the model.

# %%
# %matplotlib inline
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from pushlab.bench.analysis import comparison, model
from pushlab.bench.analysis.results import load_results
from pushlab.bench.analysis.shaping import polling_rows, recorded_hold_s, transit_estimate_ms
from pushlab.bench.notebooks import results_dir, show
from pushlab.bench.presentation import polling as polling_figures
from pushlab.bench.presentation import sweeps
from pushlab.techniques import HELD, TECHNIQUES, label

results = load_results(results_dir())
summary = results.summary
# A scenario can serve several sweeps (the clients sweep's 40-client row may also be the rate
# sweep's 1 msg/s point): compare each measured scenario once.
scenarios = summary.drop_duplicates("scenario")
environment = results.environment
if results.synthetic:
    display(Markdown("> **⚠ SYNTHETIC DATA — not a measurement.** Shapes only."))
display(
    Markdown(
        f"Reading **{results.path}**: {len(summary)} scenarios measured on "
        f"{results.run_date}, {environment.get('cpu_model', 'unknown CPU')} "
        f"({environment.get('cpu_count', environment.get('cores', '?'))} cores), sweeps: "
        f"{', '.join(sorted(summary['sweep'].unique()))}."
    )
)


# %% [markdown]
# ## 1. Why polling waits T/2 on average
#
# A poller asks at times 0, T, 2T, … A message is published at a moment that has nothing to do
# with the poller's clock, so it falls *uniformly* somewhere inside one period and waits for the
# next poll: anywhere from 0 to T, T/2 on average. Then the answer needs one transit d.
# So polling latency is uniform on [d, T + d]: its CDF is a straight ramp, and
#
# $$\text{mean latency} = \frac{T}{2} + d .$$
#
# Nobody measures d directly, but a pushed message's latency *is* one transit, so the bench
# takes d from the WebSocket (else SSE) median at the same load — independent of the polling
# rows it is compared with.
#
# Each model number has an uncertainty because a run is finite. A client's polls see
# independent windows, but every client watches the *same* messages, so 100 clients do not
# give 100 times the evidence. We use the number of messages N (for latency and requests per
# message) and the number of polls of one client, duration/T (for the empty fraction), as the
# sample sizes, and call a measurement *in agreement* when it lies within two standard errors.
# The model is evaluated at the rate each window *really* published (N / duration), not the
# nominal λ: a window of Poisson arrivals holds a few more or fewer messages than λ × duration.
# The report's findings use the same rule (`bench/analysis/comparison.py`); below, λ is the
# rate the window published.

# %%
polling = polling_rows(scenarios).dropna(subset=["poll_interval"])
rows = []
for _, row in polling.iterrows():
    T, duration = row["poll_interval"], row["duration_s"]
    rate = comparison.realised_rate(row)
    arrivals = row["arrivals"] if row["arrivals"] in ("poisson", "periodic") else "poisson"
    transit_ms, _ = transit_estimate_ms(summary, row["clients"], row["publish_rate"])
    messages = comparison.messages_of(row)
    polls_per_client = max(duration / T, 1.0)
    empty_model = float(model.polling_empty_fraction(rate, T, arrivals))
    rows.append(
        {
            "scenario": row["scenario"],
            "line": label(row["technique"], T),
            "clients": row["clients"],
            "λ (msg/s)": rate,
            "T (s)": T,
            "d (ms)": transit_ms,
            "mean latency (ms)": row["latency_mean_ms"],
            "model T/2 + d": 1000 * model.polling_mean_latency_s(T, transit_ms / 1000),
            "latency SE": comparison.latency_se_ms(T, messages),
            "empty": row["empty_fraction"],
            "model e^(−λT)" if arrivals == "poisson" else "model 1 − λT": empty_model,
            "empty SE": comparison.fraction_se(empty_model, polls_per_client),
            "requests/msg": row["requests_per_message"],
            "model 1/(λT)": float(model.polling_requests_per_message(rate, T)),
            "requests/msg SE": comparison.per_message_se(
                float(model.polling_requests_per_message(rate, T)), messages
            ),
            "messages": messages,
            "flagged": bool(row["generator_saturated"]) or not bool(row["load_achieved"]),
        }
    )
compare = pd.DataFrame(rows)
empty_model_column = next(
    c for c in compare.columns if c.startswith("model e") or c == "model 1 − λT"
)
compare["latency ok"] = (
    compare["mean latency (ms)"] - compare["model T/2 + d"]
).abs() <= comparison.AGREEMENT_SE * compare["latency SE"]
compare["empty ok"] = (
    compare["empty"] - compare[empty_model_column]
).abs() <= comparison.AGREEMENT_SE * compare["empty SE"]
compare["requests ok"] = (
    compare["requests/msg"] - compare["model 1/(λT)"]
).abs() <= comparison.AGREEMENT_SE * compare["requests/msg SE"]
display(
    compare.drop(columns=["scenario"])
    .style.hide(axis="index")
    .format(precision=3)
    .format({"clients": "{:,.0f}", "λ (msg/s)": "{:g}", "T (s)": "{:g}"})
)

# %% [markdown]
# The same comparison, drawn. Mean latency first:

# %%
show(lambda: polling_figures.plot_latency_vs_interval(summary).figure)

# %%
if compare.empty:
    display(Markdown("_This run has no polling rows._"))
else:
    agree = compare["latency ok"]
    ratio = compare["mean latency (ms)"] / compare["model T/2 + d"]
    display(
        Markdown(
            f"{agree.sum()} of {len(compare)} polling rows have a mean latency within two "
            f"standard errors of T/2 + d; measured over predicted ranges from {ratio.min():.2f} "
            f"to {ratio.max():.2f}."
        )
    )
    largest_d, smallest_half_T = compare["d (ms)"].max(), 500 * compare["T (s)"].min()
    if largest_d < smallest_half_T / 10:
        display(
            Markdown(
                f"The transit is small next to T/2 here ({largest_d:.2g} ms at most against "
                f"T/2 ≥ {smallest_half_T:g} ms): polling's latency is almost all waiting for "
                "the next poll, which is why it falls in proportion to T."
            )
        )

# %% [markdown]
# ## 2. Empty answers: e^(−λT)
#
# A poll comes back empty when nothing was published during the T seconds since the previous
# poll. With Poisson arrivals (independent messages at rate λ), the count in a window of length
# T is Poisson with mean λT, and the chance that it is zero is
#
# $$P(\text{empty}) = e^{-\lambda T}.$$
#
# At λT = 1 (one message per poll period on average) that is still 37% empty polls; to get
# below 5% you must poll so rarely that λT ≈ 3 — three messages pile up between polls, and the
# average one waits 1.5 message gaps. Periodic arrivals (one every 1/λ seconds) never bunch,
# so fewer polls are empty: max(0, 1 − λT).

# %%
show(lambda: polling_figures.plot_empty_fraction_vs_interval(summary).figure)

# %%
if not compare.empty:
    worst = compare.iloc[(compare["empty"] - compare[empty_model_column]).abs().argmax()]
    display(
        Markdown(
            f"{compare['empty ok'].sum()} of {len(compare)} polling rows agree with the model "
            f"within two standard errors. The largest gap is at T = {worst['T (s)']:g} s with "
            f"{worst['clients']:,.0f} clients: {100 * worst['empty']:.1f}% measured against "
            f"{100 * worst[empty_model_column]:.1f}% predicted (one standard error is "
            f"{100 * worst['empty SE']:.1f} points)."
        )
    )

# %% [markdown]
# ## 3. Requests per message: 1/(λT)
#
# A poller asks 1/T times a second whatever happens, and receives λ messages a second, so it
# makes (1/T)/λ = 1/(λT) requests per message it receives. Poll every second at one message a
# minute and that is 60 requests per message; at ten messages a second it is 0.1, because each
# answer carries about ten messages. This is the number that makes polling expensive for
# rare news and cheap for a busy feed.

# %%
show(lambda: polling_figures.plot_requests_per_message_vs_interval(summary).figure)

# %%
if not compare.empty:
    display(
        Markdown(
            f"{compare['requests ok'].sum()} of {len(compare)} polling rows agree with 1/(λT) "
            f"within two standard errors. Measured over predicted ranges from "
            f"{(compare['requests/msg'] / compare['model 1/(λT)']).min():.2f} to "
            f"{(compare['requests/msg'] / compare['model 1/(λT)']).max():.2f}. The uncertainty "
            f"comes from the number of messages: a run of N messages knows λ only to about "
            f"±1/√N (here N ranges from {polling['messages_published'].min():,.0f} to "
            f"{polling['messages_published'].max():,.0f})."
        )
    )

# %% [markdown]
# ## 4. Long polling and push, as λ grows
#
# A long poll is held at the server until a message exists, so at moderate rates it costs about
# **one request per message**. Two things pull it off 1:
#
# - at low rates, a held request times out empty after τ seconds and is asked again, so the
#   ratio rises above 1 (one request every τ seconds);
# - at high rates, messages published while the client is re-asking (the gap g) wait in the
#   history and leave together in one answer, so the ratio falls below 1, towards 1/(λg).
#
# WebSocket and SSE make one request (the upgrade, or the stream's GET) and then only receive:
# over a run of λ·duration messages that one request is shared, so the ratio tends to 0.
#
# The hold τ is the one this run's long-poll clients asked for: `summary.csv` records it in
# `hold_s`, and the model reads it from there (a run that did not record it gets no
# long-poll curve, rather than one drawn with a guessed τ).

# %%
show(lambda: sweeps.plot_requests_per_message_vs_rate(summary).figure)
holds = scenarios.get("hold_s", pd.Series(dtype=float)).dropna().unique()
display(
    Markdown(
        f"This run's long-poll hold: τ = {', '.join(f'{hold:g} s' for hold in holds)}."
        if len(holds)
        else "_This run recorded no long-poll hold: the long-poll model is not drawn._"
    )
)

# %% [markdown]
# ## 5. Transits: long polling takes 1 to 3, WebSocket one
#
# A pushed message (WebSocket, SSE) leaves as soon as it is published: its latency is one
# transit d. A long poll is just as fast when its request is already waiting at the server —
# one transit. The worst case (RFC 6202 §2.2) is a message published just after the server
# answered: it waits for that answer to reach the client (d), for the next request to come back
# (d) and for its own answer (d) — three transits. How often is that? Only when a message lands
# in the gap g ≈ 2d, which happens for a fraction of about λg of the messages: tiny at 1 msg/s
# and millisecond transits. We look at the long-poll and WebSocket latencies of one load, in
# units of d.


# %%
def longpoll_gap_share(rate: float, transit_s: float, hold_s: float) -> float:
    """Share of messages that land in a gap, read off the model's mean: d + (g/2)·share."""
    gap_s = 2 * transit_s
    mean_s = model.longpoll_mean_latency_s(rate, transit_s, gap_s, hold_s)
    return float((mean_s - transit_s) / (gap_s / 2))


def model_mean_latency_ms(row: pd.Series, transit_ms: float) -> float:
    """Pushed: one transit. Long polling: its model, with the hold this row asked for."""
    if TECHNIQUES[row["technique"]].pushes:
        return 1000 * model.push_latency_s(transit_ms / 1000)
    hold_s = recorded_hold_s(row)
    if hold_s is None:
        return np.nan  # the run did not record its hold: no model rather than a guess
    gap_s = 2 * transit_ms / 1000
    return 1000 * model.longpoll_mean_latency_s(
        row["publish_rate"], transit_ms / 1000, gap_s, hold_s
    )


at_load = scenarios[scenarios["technique"].isin(HELD)]
transit_rows = []
for _, row in at_load.iterrows():
    if not results.has_latency(row["scenario"]):
        continue
    latency = results.latency_ms(row["scenario"])
    if latency.size == 0:
        continue
    transit_ms, source = transit_estimate_ms(summary, row["clients"], row["publish_rate"])
    in_transits = latency / transit_ms
    hold_s = recorded_hold_s(row)
    pushes = TECHNIQUES[row["technique"]].pushes
    transit_rows.append(
        {
            "technique": label(row["technique"]),
            "pushes": pushes,
            "clients": row["clients"],
            "λ (msg/s)": row["publish_rate"],
            "d (ms)": transit_ms,
            "deliveries": latency.size,
            "median (d)": np.median(in_transits),
            "p99 (d)": np.quantile(in_transits, 0.99),
            "> 2d": np.mean(in_transits > 2),
            "> 3d": np.mean(in_transits > 3),
            "mean (ms)": latency.mean(),
            "model mean (ms)": model_mean_latency_ms(row, transit_ms),
            "share in a gap (model)": np.nan
            if pushes or hold_s is None
            else longpoll_gap_share(row["publish_rate"], transit_ms / 1000, hold_s),
        }
    )
transits = pd.DataFrame(transit_rows)
if transits.empty:
    display(Markdown("_This run has no long-poll or pushed latencies._"))
else:
    transits = transits.sort_values(["λ (msg/s)", "clients", "technique"])
    display(
        transits.drop(columns="pushes")
        .style.hide(axis="index")
        .format(precision=3)
        .format({"clients": "{:,.0f}", "deliveries": "{:,.0f}", "> 2d": "{:.2%}", "> 3d": "{:.2%}"})
    )

# %%
if not transits.empty:
    longpoll_rows = transits[~transits["pushes"]]
    pushed_rows = transits[transits["pushes"]]
    text = []
    if not longpoll_rows.empty:
        beyond = longpoll_rows["> 3d"].max()
        expected = longpoll_rows["share in a gap (model)"].max()
        text.append(
            f"Long polling's median is {longpoll_rows['median (d)'].min():.2f}–"
            f"{longpoll_rows['median (d)'].max():.2f} transits across its "
            f"{len(longpoll_rows)} rows, and at most {longpoll_rows['> 3d'].max():.2%} of its "
            f"deliveries took more than three. The model expects "
            f"{longpoll_rows['share in a gap (model)'].min():.2%}–"
            f"{longpoll_rows['share in a gap (model)'].max():.2%} of messages to land in a gap "
            f"(the higher the rate, the more)."
        )
        if beyond > 2 * expected:
            text.append(
                f"So the slow long polls here ({beyond:.1%} beyond three transits, against "
                f"{expected:.2%} expected in a gap) are not the gap's fault. A long poll's "
                "transit is heavier than a pushed frame's — a whole HTTP response for the "
                "client to parse, then a whole new request for the server — and every client "
                "re-asks at the same moment, after the same publish."
            )
    if not pushed_rows.empty:
        text.append(
            f"Pushed messages: median {pushed_rows['median (d)'].min():.2f}–"
            f"{pushed_rows['median (d)'].max():.2f} transits (d is itself the WebSocket "
            f"median, so WebSocket's own median is 1 by construction; SSE's is an independent "
            f"check)."
        )
    long_tails = transits[transits["p99 (d)"] > 3]
    if not long_tails.empty:
        text.append(
            f"{len(long_tails)} of {len(transits)} rows have a p99 above three transits "
            f"(up to {long_tails['p99 (d)'].max():.1f}), pushed rows included: that is not the "
            "1–3 transit story but queueing. One publish wakes every held request or socket at "
            "once and the server answers them one after another, so the last client in line "
            "waits for all the others."
        )
    by_clients = transits.groupby("clients")["d (ms)"].median()
    if len(by_clients) > 1:
        text.append(
            f"The transit d itself grows with the clients: {by_clients.iloc[0]:.2g} ms at "
            f"{by_clients.index[0]:,.0f} clients, {by_clients.iloc[-1]:.2g} ms at "
            f"{by_clients.index[-1]:,.0f}."
        )
    display(Markdown(" ".join(text)))

# %% [markdown]
# ## 6. Where the model and the measurement part, and why
#
# The models are idealisations. When a measured point leaves its dashed line by more than the
# noise, one of these is usually the reason — the table below lists the rows that disagree and
# the likely cause this run's own numbers point to.
#
# - **The load generator is the bottleneck.** A saturated generator polls late and reads late,
#   so latency grows and the effective T stretches. Such rows are flagged (hollow markers).
# - **T is not much longer than a request.** `constant_pacing(T)` starts a poll every T
#   seconds only if the previous one finished in time; at very short T, a slow answer pushes
#   the next poll back, and the real period is longer than T.
# - **The transit is not constant.** The model uses one d; in reality every publish wakes many
#   clients at once, and the server's answers queue (see section 5).
# - **A finite run.** A run of N messages estimates λ only to ±1/√N; the table's standard errors
#   account for that, but few messages make every comparison loose. The bench gives every
#   scenario of a run the same Poisson arrivals (one seed, printed and kept in
#   `environment.json`), so the rows of one run share their luck: differences *between rows*
#   are the technique's, while a gap *to the model* can still be the draw.
# - **The arrivals are not Poisson.** e^(−λT) assumes independent arrivals; periodic ones give
#   max(0, 1 − λT) instead (the plots switch model when the run says `periodic`).


# %%
def likely_cause(row: pd.Series) -> str:
    if row["flagged"]:
        return "the load generator was saturated or the load was not reached"
    if row["messages"] < 30:
        return f"only {row['messages']:.0f} messages in the window: too few to judge a model by"
    if row["T (s)"] * 1000 < 20 * row["d (ms)"]:
        return "T is within 20 transits: the request itself shifts the polls"
    if row["λ (msg/s)"] * row["T (s)"] > 5 and not row["empty ok"]:
        return "almost no poll is empty: a handful of empty polls is pure chance"
    return "not explained by noise or flags: look at this scenario's server samples"


parted = compare[~(compare["latency ok"] & compare["empty ok"] & compare["requests ok"])]
if compare.empty:
    display(Markdown("_No polling rows to compare._"))
elif parted.empty:
    display(
        Markdown(
            f"In this run every one of the {len(compare)} polling rows agrees with all three "
            "models within two standard errors: on one machine, with the generator keeping up, "
            "polling behaves exactly as the arithmetic says."
        )
    )
else:
    display(
        parted.assign(
            disagrees=lambda frame: frame.apply(
                lambda row: ", ".join(
                    name
                    for name, ok in (
                        ("latency", row["latency ok"]),
                        ("empty", row["empty ok"]),
                        ("requests/msg", row["requests ok"]),
                    )
                    if not ok
                ),
                axis=1,
            ),
            cause=lambda frame: frame.apply(likely_cause, axis=1),
        )[["line", "clients", "λ (msg/s)", "T (s)", "disagrees", "cause"]]
        .style.hide(axis="index")
        .format({"clients": "{:,.0f}", "λ (msg/s)": "{:g}", "T (s)": "{:g}"})
    )
    display(
        Markdown(
            f"{len(parted)} of {len(compare)} polling rows part from at least one model by more "
            f"than two standard errors. With three comparisons per row, each missing its band "
            f"by chance about 5% of the time, about {1 - 0.9545**3:.0%} of rows would do so even "
            f"if every model were exact."
        )
    )
