// Small live line charts drawn by hand on a <canvas>: one line per technique, the last 60 samples.

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
    const top = fontSize + 4;
    const plotHeight = height - top - 2;
    const maximum = niceCeiling(Math.max(1, ...Object.values(this.series).flat()));

    context.strokeStyle = style.getPropertyValue("--grid").trim() || "#ccc";
    context.lineWidth = 1;
    for (const fraction of [0, 0.5, 1]) {
      const y = top + plotHeight * (1 - fraction) + 0.5;
      context.beginPath();
      context.moveTo(0, y);
      context.lineTo(width, y);
      context.stroke();
    }
    context.fillStyle = style.color;
    context.font = `${fontSize}px ${style.fontFamily}`;
    context.textBaseline = "top";
    context.fillText(`max ${this.formatValue(maximum)}`, 2, 0);

    const step = width / (HISTORY_LENGTH - 1);
    context.lineWidth = 2;
    for (const [name, points] of Object.entries(this.series)) {
      if (points.length === 0) continue;
      context.strokeStyle = this.seriesColors[name];
      context.beginPath();
      const offset = HISTORY_LENGTH - points.length;
      points.forEach((value, i) => {
        const x = (offset + i) * step;
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
