// Section: the server's view. Four live charts of what every technique's server counts
// (clients connected, requests/s, bytes/s) and the process's CPU, in the table's colours.

import { onLanguageChange } from "./i18n.js";
import { LineChart, formatNumber } from "./charts.js";
import { element } from "./page.js";
import { anyTechnique } from "./stats.js";

function buildLegend(table) {
  const legend = document.getElementById("legend");
  for (const entry of Object.values(table)) {
    const swatch = element("span", "swatch");
    swatch.style.background = entry.colour;
    const label = element("span");
    label.dataset.i18n = `technique.${entry.name}`;
    const item = element("li");
    item.append(swatch, label);
    legend.append(item);
  }
}

function makeCharts(table) {
  const colors = Object.fromEntries(Object.values(table).map((entry) => [entry.name, entry.colour]));
  const chart = (id, format) => new LineChart(document.getElementById(id), colors, format);
  const oneColor = { cpu: "#333" };
  return {
    clients: chart("chart-clients"),
    requests: chart("chart-requests"),
    bytes: chart("chart-bytes", formatNumber),
    cpu: new LineChart(document.getElementById("chart-cpu"), oneColor, (v) => `${formatNumber(v)} %`),
  };
}

function rates(previous, current) {
  const elapsedS = current.server_time - previous.server_time;
  const perTechnique = (field) =>
    Object.fromEntries(
      Object.keys(current.techniques).map((name) => {
        const delta = field(current.techniques[name]) - field(previous.techniques[name]);
        return [name, Math.max(0, delta / elapsedS)];
      }),
    );
  const cpuS = (snapshot) => anyTechnique(snapshot).process_cpu_s; // one process: one CPU time
  return {
    requests: perTechnique((s) => s.requests),
    bytes: perTechnique((s) => s.bytes_in + s.bytes_out),
    cpu: { cpu: Math.max(0, ((cpuS(current) - cpuS(previous)) / elapsedS) * 100) },
  };
}

export default {
  mount(page) {
    buildLegend(page.config.table);
    const charts = makeCharts(page.config.table);
    page.onStats((current, previous) => {
      const perSecond = rates(previous, current);
      const connected = Object.entries(current.techniques).map(([name, stats]) => [
        name,
        stats.clients_connected,
      ]);
      charts.clients.push(Object.fromEntries(connected));
      charts.requests.push(perSecond.requests);
      charts.bytes.push(perSecond.bytes);
      charts.cpu.push(perSecond.cpu);
    });
    const redraw = () => Object.values(charts).forEach((chart) => chart.draw());
    onLanguageChange(redraw);
    addEventListener("resize", redraw);
  },
};
