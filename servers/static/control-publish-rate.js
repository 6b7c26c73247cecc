// Control: the publish rate of the one shared publisher (messages/s for the whole server).
// Changing it needs the teacher's key on a shared server (teacher.js); the box follows the
// server's rate, except while someone is typing in it.

import { fetchJson, showStatus } from "./page.js";
import { anyTechnique } from "./stats.js";
import { teacherHeaders } from "./teacher.js";

export default {
  mount(page) {
    const rateInput = document.getElementById("publish-rate");
    rateInput.value = page.config.publish_rate;
    rateInput.addEventListener("change", async () => {
      try {
        await fetchJson("/api/publisher", {
          method: "POST",
          headers: { "Content-Type": "application/json", ...teacherHeaders() },
          body: JSON.stringify({ publish_rate: Number(rateInput.value) }),
        });
        showStatus("");
      } catch (error) {
        showStatus(error.message);
      }
    });
    page.onStats((current) => {
      if (document.activeElement !== rateInput) rateInput.value = anyTechnique(current).publish_rate;
    });
  },
};
