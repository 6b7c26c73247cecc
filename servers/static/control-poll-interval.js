// Control: how often the polling panel asks (ms). It starts at the server's default
// (/api/config's poll_interval_s) and changes this page's polling only.

const MIN_MS = 100; // as the input's min and max in index.html
const MAX_MS = 60000;

export default {
  mount(page) {
    const intervalInput = document.getElementById("poll-interval");
    intervalInput.value = page.settings.pollIntervalMs;
    intervalInput.addEventListener("input", () => {
      const value = Number(intervalInput.value);
      if (value >= MIN_MS && value <= MAX_MS) page.settings.pollIntervalMs = value;
    });
  },
};
