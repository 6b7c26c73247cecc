// The classroom page: four panels, one per technique, and the parts around them (controls,
// the server's view, the handshake, the tabs). This module only starts them in order: the
// panels' features are listed in panel-features.js, the other parts in page-parts.js.
// Every fact (techniques, colours, URLs, defaults, reconnect policy) comes from /api/config.

import { applyTranslations, onLanguageChange, preferredLanguage, setLanguage, t } from "./i18n.js";
import { CLIENTS } from "./clients.js";
import { showClockOffset } from "./clock.js";
import { loadConfig, useConfig } from "./config.js";
import { fetchJson, showStatus } from "./page.js";
import { PAGE_PARTS } from "./page-parts.js";
import { Panel } from "./panel.js";
import { watchStats } from "./stats.js";
import { showTeacherNote } from "./teacher.js";
import { setUpViewButtons } from "./view-buttons.js";

function makePanels(config, settings, firstStats) {
  const template = document.getElementById("panel-template");
  const container = document.getElementById("panels");
  return Object.values(config.table).map((entry) => {
    const panel = new Panel(entry, template, config, settings);
    container.append(panel.root);
    panel.updateStats(firstStats.techniques[panel.technique]);
    return panel;
  });
}

/** Start each panel's browser client, unless the page is hidden and the panel holds a
 * connection: hidden tabs give their held connections back (see "the 6-connection limit"). */
function startClients(panels, config, settings) {
  for (const panel of panels) {
    panel.hiddenPaused = document.hidden && panel.holdsConnection;
    const makeClient = CLIENTS[panel.technique];
    panel.attach(makeClient(panel, config.techniques[panel.technique], settings));
  }
  document.addEventListener("visibilitychange", () => {
    for (const panel of panels) panel.setHidden(document.hidden);
  });
}

async function main() {
  setLanguage(preferredLanguage());
  setUpViewButtons();
  let config;
  let firstStats;
  try {
    config = await loadConfig();
    firstStats = await fetchJson("/api/stats");
  } catch (error) {
    showStatus(t("startError", { error: error.message }));
    return;
  }
  const settings = useConfig(config);
  showClockOffset();
  onLanguageChange(showClockOffset);
  showTeacherNote(config.teacher_key_required);

  const panels = makePanels(config, settings, firstStats);
  const statsListeners = [
    (current) => panels.forEach((panel) => panel.updateStats(current.techniques[panel.technique])),
  ];
  const page = { config, settings, panels, onStats: (listener) => statsListeners.push(listener) };
  for (const part of PAGE_PARTS) await part.mount(page);
  applyTranslations();
  startClients(panels, config, settings);
  watchStats(firstStats, statsListeners);
  document.body.dataset.ready = "true";
}

main();
