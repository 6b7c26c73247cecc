// Controls: pause (or resume) every panel, and reset every panel's counters.

import { t } from "./i18n.js";

export default {
  mount(page) {
    const pauseAll = document.getElementById("pause-all");
    pauseAll.addEventListener("click", () => {
      const pause = page.panels.some((panel) => !panel.userPaused);
      for (const panel of page.panels) panel.setUserPaused(pause);
      pauseAll.dataset.i18n = pause ? "resumeAll" : "pauseAll";
      pauseAll.textContent = t(pauseAll.dataset.i18n);
    });
    document.getElementById("reset-all").addEventListener("click", () => {
      for (const panel of page.panels) panel.reset();
    });
  },
};
