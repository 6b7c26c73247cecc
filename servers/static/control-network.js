// Control: the network. A round-trip time, "cut the connection" and "restart the server", for one
// technique or all four. The demo server runs each technique behind its own emulator, so this
// page's own traffic goes through it (see servers/demonet.py); each panel's conversation log
// then shows the break, the reconnect and the resume.

import { t } from "./i18n.js";
import { showStatus } from "./page.js";
import { teacherHeaders } from "./teacher.js";

async function postJson(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...teacherHeaders() },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error ?? `${response.status}`);
  return answer;
}

function option(value, i18nKey, text) {
  const node = document.createElement("option");
  node.value = value;
  if (i18nKey) node.dataset.i18n = i18nKey;
  node.textContent = text;
  return node;
}

/** Wire the controls of index.html's #network section to the demo's /api/network, /api/cut
 * and /api/restart; the panels get a line in their log for each change they are part of. */
async function mount({ panels }) {
  const target = document.getElementById("network-target");
  const rtt = document.getElementById("network-rtt");
  for (const panel of panels) {
    const key = `technique.${panel.technique}`;
    target.append(option(panel.technique, key, t(key)));
  }
  let state = null;
  const affected = () => panels.filter((p) => target.value === "all" || p.technique === target.value);
  const showRtt = () => {
    const name = target.value === "all" ? panels[0].technique : target.value;
    const current = state?.techniques?.[name]?.rtt_ms;
    if (current !== undefined) rtt.value = String(current);
  };

  async function act(path, body, logKey, params = {}) {
    try {
      state = await postJson(path, { technique: target.value, ...body });
      for (const panel of affected()) panel.log("note", t(logKey, params));
      showStatus("");
    } catch (error) {
      showStatus(t("network.failed", { error: error.message }));
    }
  }

  state = await fetch("/api/network", { cache: "no-store" })
    .then((response) => (response.ok ? response.json() : null))
    .catch(() => null);
  for (const ms of state?.rtt_choices_ms ?? [0]) rtt.append(option(String(ms), null, `${ms} ms`));
  showRtt();
  target.addEventListener("change", showRtt);
  rtt.addEventListener("change", () =>
    act("/api/network", { rtt_ms: Number(rtt.value) }, "log.rttSet", { rtt: rtt.value }),
  );
  document.getElementById("network-cut").addEventListener("click", () => act("/api/cut", {}, "log.cut"));
  document
    .getElementById("network-restart")
    .addEventListener("click", () => act("/api/restart", {}, "log.restart"));
}

export default { mount };
