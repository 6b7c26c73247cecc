// Control: the path from the server to this page, per technique — direct, or through a real
// nginx with one of its profiles (nginx-default, nginx-tuned, nginx-h2: docs/proxy.md). The
// demo starts the proxy (POST /api/proxy); /api/config then names the technique's new URL,
// and the panel's client moves there, resuming from its cursor: nothing is lost on the way.
// What the class should see: SSE's events held back by a default proxy's buffering, the
// WebSocket upgrade refused by it, HTTP/2's smaller header bytes.

import { t } from "./i18n.js";
import { CLIENTS } from "./clients.js";
import { fetchJson, showStatus } from "./page.js";
import { teacherHeaders } from "./teacher.js";

function option(value, key) {
  const element = document.createElement("option");
  element.value = value;
  if (key) element.dataset.i18n = key;
  element.textContent = key ? t(key) : value;
  return element;
}

function labelled(key, control) {
  const label = document.createElement("label");
  const text = document.createElement("span");
  text.dataset.i18n = key;
  text.textContent = t(key);
  label.append(text, control);
  return label;
}

/** Move the panels of `techniques` to wherever /api/config now sends them. */
async function follow(page, techniques) {
  const config = await fetchJson("/api/config");
  for (const panel of page.panels) {
    if (!techniques.includes(panel.technique)) continue;
    const url = config.techniques[panel.technique];
    panel.replaceClient(CLIENTS[panel.technique](panel, url, page.settings));
    panel.log("note", t("path.now", { url }));
  }
}

export default {
  async mount(page) {
    let paths;
    try {
      paths = await fetchJson("/api/proxy");
    } catch {
      return; // a server without the path control: nothing to show
    }
    const bar = document.createElement("div");
    bar.className = "toolbar path";
    bar.id = "path";
    const heading = document.createElement("strong");
    heading.dataset.i18n = "path.heading";
    heading.textContent = t("path.heading");
    const target = document.createElement("select");
    target.id = "path-target";
    target.append(option("all", "network.all"));
    for (const panel of page.panels) target.append(option(panel.technique, `technique.${panel.technique}`));
    const profile = document.createElement("select");
    profile.id = "path-profile";
    for (const name of paths.profiles) profile.append(option(name));
    bar.append(heading, labelled("path.target", target), labelled("path.profile", profile));
    document.getElementById("network").after(bar);
    profile.addEventListener("change", async () => {
      const chosen = target.value === "all" ? page.panels.map((p) => p.technique) : [target.value];
      try {
        for (const technique of chosen) {
          await fetchJson("/api/proxy", {
            method: "POST",
            headers: { "Content-Type": "application/json", ...teacherHeaders() },
            body: JSON.stringify({ technique, profile: profile.value }),
          });
        }
        await follow(page, chosen);
        showStatus("");
      } catch (error) {
        showStatus(error.message);
      }
    });
  },
};
