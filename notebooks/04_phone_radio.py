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
# # 04 · The phone: what each technique costs a mobile radio
#
# > **中文摘要**：原文说轮询"大大增加服务器负担，而且慢"。在手机上，它最大的代价在别处：每次通信都会
# > 唤醒蜂窝无线电，最后一个数据包之后它还要在高功耗状态停留好几秒（"尾巴"）。本笔记本把 AT&T ARO
# > 工具公开的 LTE 和 3G 默认参数（RRC 状态机）套在基准测试中真实客户端的逐次读写上，画出无线电的
# > 状态，并比较四种技术每小时、每条消息的无线电能耗，以及哪种心跳让无线电一直醒着。这是对实测流量的
# > 模型计算，不是对真实手机的测量。
#
# A phone's cellular radio does not sleep the moment its last packet has gone. The network keeps
# it in a high-power state for a while in case more traffic follows (the *tail*), and waking it
# from idle (a *promotion*) costs time and energy of its own. So on a phone, what a technique
# costs is set less by its bytes than by **how often it wakes the radio**: a poll every second, a
# keep-alive every 15 s, a WebSocket ping every 20 s, a long poll asked again every 25 s.
#
# The radio model (`bench/analysis/radio.py`) is the RRC state machine of AT&T's ARO (Video
# Optimizer) with its published default parameters (`pushlab/radio_profiles.py`, each
# with its unit and the file it was read from). The traffic is real: in the bench's radio sweep,
# and in the rate and interval sweeps of `make bench`, the load generator recorded every write
# of every k-th client at its sockets — requests, answers, pushed messages, pings, pongs and
# keep-alive comments alike. The radio sweep's windows are longer than the radio's tail; the
# default run's are not, and its rows say so (`docs/radio.md`).
#
# Which run? `results/latest` if you have made one, else `results/sample`; set the environment
# variable `PUSHLAB_RESULTS` to read another directory. A run with no recorded clients has no
# client timelines: the notebook then draws a made-up timeline, and says so.

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import Markdown, display

from pushlab.bench.analysis import radio
from pushlab.bench.analysis.radio_curves import recorded_runs
from pushlab.bench.analysis.radio_findings import (
    crossover_finding,
    heartbeat_finding,
    radio_rows,
)
from pushlab.bench.analysis.radio_traffic import WriteSizes, traffic
from pushlab.bench.analysis.radio_window import column_name
from pushlab.bench.analysis.results import load_results
from pushlab.bench.notebooks import results_dir, show
from pushlab.bench.presentation import radio as radio_figures
from pushlab.radio_profiles import PROFILES
from pushlab.techniques import label

results = load_results(results_dir())
runs = recorded_runs(results.path)
rows = radio_rows(results)
display(
    Markdown(
        f"Reading `{results.path.name}`: {len(runs)} scenario(s) with client timelines, "
        f"{len(rows)} radio row(s)."
    )
)

# %% [markdown]
# ## The profiles
#
# Every number the model uses, with its unit and the key it has in ARO's source. LTE: after the
# last packet, 0.1 s of continuous reception, then short and long DRX (the radio wakes a few
# milliseconds in every cycle) until the tail ends; only then idle, where it wakes briefly every
# 1.28 s to listen for paging. 3G: DCH, then FACH, then idle.

# %%
table = pd.DataFrame(
    [
        {
            "profile": profile.label,
            "parameter": name,
            "value": parameter.value,
            "unit": parameter.unit,
            "meaning": parameter.meaning,
            "ARO key": parameter.source_key,
        }
        for profile in PROFILES.values()
        for name, parameter in profile.parameters.items()
    ]
)
display(table)
lines = [
    f"- **{p.label}**: a lone packet keeps the radio awake {radio.tail_s(p):g} s after it and "
    f"costs {radio.wakeup_j(p):.3g} J (promotion and tail); awake, the radio draws "
    f"{min(radio.state_power_w(p, s) for s in radio.STATES[p.kind][1:]):.2g}–"
    f"{max(radio.state_power_w(p, s) for s in radio.STATES[p.kind]):.2g} W, idle "
    f"{radio.state_power_w(p, radio.IDLE) * 1000:.3g} mW."
    for p in PROFILES.values()
]
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## One real client's radio
#
# The client below is the first sampled client of the slowest-publishing push scenario in the
# run (where the radio has the most chance to sleep). Each band is a state of the radio, its
# height the state's power; the ticks under the axis are the client's writes: black, sent;
# grey, received.


# %%
def pick(runs):
    """The first sampled client of the slowest-publishing push scenario (else any)."""
    ordered = sorted(
        runs.items(), key=lambda item: (item[1].technique == "polling", item[1].publish_rate)
    )
    for scenario, run in ordered:
        for user, timeline in run.clients.items():
            return scenario, run, user, timeline
    return None


picked = pick(runs)
if picked is not None:
    scenario, run, user, timeline = picked
    start_s, end_s = run.window_start, run.window_end
    who = (
        f"client {user} of `{scenario}` ({label(run.technique, run.poll_interval)}, "
        f"{run.publish_rate:g} msg/s), measured"
    )
else:
    made = traffic("sse", 0.1, 120.0, sizes=WriteSizes(0, 100), seed=4)
    timeline, start_s, end_s = made, 30.0, 120.0
    who = "a made-up SSE client at 0.1 msg/s (this run has no radio timelines)"
display(Markdown(f"Drawing {who}."))
for profile in PROFILES.values():
    use = radio.radio_use(timeline, profile, start_s, end_s)
    display(
        radio_figures.plot_radio_states(
            timeline,
            profile,
            start_s,
            end_s,
            title=f"{profile.label}: {use.energy_j:.3g} J in {end_s - start_s:.0f} s, "
            f"awake {use.awake_fraction:.0%}, {use.promotions} promotion(s)",
        )
    )

# %% [markdown]
# ## The four techniques compared
#
# The radio rows (the radio sweep's, else the default run's): for each technique, the sampled
# clients' modelled energy per hour, per message they received (everything the radio spent,
# heartbeats included, over the messages), and the fraction of the window their radio was awake.

# %%
if rows.empty:
    display(Markdown("_This run has no radio rows; `pushlab bench --sweeps radio` makes some._"))
else:
    shown = {
        "technique": [
            label(t, i) for t, i in zip(rows["technique"], rows["poll_interval"], strict=True)
        ]
    }
    shown["msg/s"] = rows["publish_rate"].to_numpy()
    for profile in PROFILES.values():
        for metric, heading in (
            ("j_per_hour", "J/h"),
            ("j_per_message", "J/msg"),
            ("awake_fraction", "awake"),
        ):
            values = rows[column_name(metric, profile.name)].to_numpy()
            shown[f"{profile.label} {heading}"] = values
    display(pd.DataFrame(shown).sort_values(["msg/s", "technique"]).round(3))

# %% [markdown]
# The same model over each technique's rules, at every rate (lines), beside the sampled
# clients (points): where the lines cross, the cheaper technique changes. Below the tail,
# polling costs nearly the same at any interval: every poll finds the radio still awake.

# %%
show(radio_figures.plot_energy_vs_rate, results)
show(radio_figures.plot_polling_vs_interval, results)
for finding in (heartbeat_finding, crossover_finding):
    sentence = finding(results) if not rows.empty else None
    if sentence:
        display(Markdown(sentence))

# %% [markdown]
# ## What this is not
#
# - **A model over measured traffic, not a measured phone.** The writes are real (this machine,
#   loopback); the radio is ARO's state machine with its default parameters. A real phone's
#   radio depends on the operator's timers, the device and the signal.
# - **Which profile**: ARO's LTE defaults (after Huang et al., MobiSys 2012) and its built-in
#   3G defaults; no published parameter set for 5G NR (with RRC_INACTIVE) was found to cite.
# - **What a real device adds**: *fast dormancy* (the phone asks the network to release the
#   radio early, shortening the tail), the operating system's batching and throttling of
#   background traffic (Android's Doze, iOS's push service: apps in the background rarely keep
#   their own sockets), and the bytes' airtime on a weak signal.
# - **One recv is one write**: the recorder sees what the client's socket hands over at once,
#   not packets; the model cares about when traffic happens, which this keeps.

# %%
sampled = int(rows["radio_clients"].sum()) if not rows.empty else 0
display(Markdown(f"Sampled clients in this run's radio rows: {sampled}."))
