// Panel feature: the request counters (requests sent, empty answers, messages), and the rows of
// the counters table that the other features use too.

/** Add a row to the panel's counters: its label is the i18n key counter.<name>. */
export function addCounter(panel, name) {
  const row = document.createElement("div");
  const label = document.createElement("dt");
  label.dataset.i18n = `counter.${name}`;
  const cell = document.createElement("dd");
  cell.dataset.counter = name;
  cell.textContent = "–";
  row.append(label, cell);
  panel.find(".counters").append(row);
}

/** Show a value in a row (numbers with thousands separators); untouched if unchanged. */
export function showCounter(panel, name, value) {
  const cell = panel.find(`[data-counter="${name}"]`);
  const text = typeof value === "number" ? value.toLocaleString("en-US") : value;
  if (cell.textContent !== text) cell.textContent = text;
}

const NAMES = ["requests", "empty", "messages"]; // the panel counts these (panel.counters)

export default {
  mount(panel) {
    for (const name of NAMES) addCounter(panel, name);
  },
  render(panel) {
    for (const name of NAMES) showCounter(panel, name, panel.counters[name]);
  },
};
