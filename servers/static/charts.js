// Small live line charts drawn by hand on a <canvas>: one line per technique, the last 60 samples.

import { t } from "./i18n.js";

export const HISTORY_LENGTH = 60;

export class LineChart {
  constructor(canvas, seriesColors, formatValue = formatNumber) {
    this.canvas = canvas;
    this.seriesColors = seriesColors; // {name: cssColor}
    this.formatValue = formatValue;
    this.series = Object.fromEntries(Object.keys(seriesColors).map((name) => [name, []]));
  }

  push(values) {
    for (const [name, points] of Object.entries(this.series)) {
      points.push(values[name] ?? 0);
      if (points.length > HISTORY_LENGTH) points.shift();
    }
    this.draw();
  }

  clear() {
    for (const points of Object.values(this.series)) points.length = 0;
    this.draw();
  }

  draw() {
    const { canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (width === 0 || height === 0) return;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);

    const style = getComputedStyle(canvas);
    const fontSize = parseFloat(style.fontSize) || 12;
    const top = fontSize / 2 + 2;
    const bottom = fontSize + 6; // room for the time axis' words
    const plotHeight = height - top - bottom;
    const maximum = niceCeiling(Math.max(1, ...Object.values(this.series).flat()));
    context.font = `${fontSize}px ${style.fontFamily}`;
    const ticks = [0, 0.5, 1].map((fraction) => this.formatValue(maximum * fraction));
    const left = Math.max(...ticks.map((tick) => context.measureText(tick).width)) + 8;

    context.strokeStyle = style.getPropertyValue("--grid").trim() || "#ccc";
    context.fillStyle = style.color;
    context.lineWidth = 1;
    context.textBaseline = "middle";
    context.textAlign = "right";
    [0, 0.5, 1].forEach((fraction, i) => {
      const y = top + plotHeight * (1 - fraction) + 0.5;
      context.beginPath();
      context.moveTo(left, y);
      context.lineTo(width, y);
      context.stroke();
      context.fillText(ticks[i], left - 4, y);
    });
    context.textBaseline = "bottom";
    context.textAlign = "left";
    context.fillText(t("chart.ago", { seconds: HISTORY_LENGTH }), left, height);
    context.textAlign = "right";
    context.fillText(t("chart.now"), width - 2, height);

    const step = (width - left) / (HISTORY_LENGTH - 1);
    context.lineWidth = 2;
    for (const [name, points] of Object.entries(this.series)) {
      if (points.length === 0) continue;
      context.strokeStyle = this.seriesColors[name];
      context.beginPath();
      const offset = HISTORY_LENGTH - points.length;
      points.forEach((value, i) => {
        const x = left + (offset + i) * step;
        const y = top + plotHeight * (1 - value / maximum);
        if (i === 0) context.moveTo(x, y);
        else context.lineTo(x, y);
      });
      context.stroke();
    }
  }
}

function niceCeiling(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const nice = [1, 2, 5, 10].find((m) => m * magnitude >= value);
  return nice * magnitude;
}

export function formatNumber(value) {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  if (value >= 10 || Number.isInteger(value)) return String(Math.round(value));
  return value.toFixed(1);
}
