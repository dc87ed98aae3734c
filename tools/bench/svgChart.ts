/** A small line chart as SVG (converted to PNG with rsvg-convert by the soak), no dependencies. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export interface Series {
  label: string;
  points: { x: number; y: number }[];
}

export function lineChartSvg(title: string, xLabel: string, yLabel: string, series: Series[], width = 900, height = 420): string {
  const pad = { left: 80, right: 20, top: 30, bottom: 50 };
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p.x));
  const yMaxRaw = Math.max(1e-9, ...all.map((p) => p.y));
  const yMax = niceCeil(yMaxRaw * 1.1);
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd'];
  // legend: up to three labels per row, between the title and the plot
  const perRow = 3;
  pad.top += Math.ceil(series.length / perRow) * 16;
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const sx = (x: number) => pad.left + (x / xMax) * w;
  const sy = (y: number) => pad.top + h - (y / yMax) * h;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escape(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    parts.push(`<line x1="${pad.left}" x2="${pad.left + w}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${pad.left - 6}" y="${sy(y) + 4}" text-anchor="end">${formatNumber(y)}</text>`);
    const x = (xMax * i) / 5;
    parts.push(`<text x="${sx(x)}" y="${pad.top + h + 18}" text-anchor="middle">${formatNumber(x)}</text>`);
  }
  parts.push(`<line x1="${pad.left}" x2="${pad.left}" y1="${pad.top}" y2="${pad.top + h}" stroke="black"/>`);
  parts.push(`<line x1="${pad.left}" x2="${pad.left + w}" y1="${pad.top + h}" y2="${pad.top + h}" stroke="black"/>`);
  parts.push(`<text x="${pad.left + w / 2}" y="${height - 10}" text-anchor="middle">${escape(xLabel)}</text>`);
  parts.push(
    `<text x="16" y="${pad.top + h / 2}" text-anchor="middle" transform="rotate(-90 16 ${pad.top + h / 2})">${escape(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const colour = colours[i % colours.length]!;
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    const legendX = pad.left + 10 + (i % perRow) * Math.floor(w / perRow);
    const legendY = 30 + Math.floor(i / perRow) * 16 + 12;
    parts.push(`<text x="${legendX}" y="${legendY}" fill="${colour}">${escape(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Write the chart as SVG and, when rsvg-convert is installed, as PNG next to it. */
export function writeChart(pathWithoutExt: string, svg: string): { svg: string; png: string | null } {
  const svgPath = `${pathWithoutExt}.svg`;
  writeFileSync(svgPath, svg);
  try {
    execFileSync('rsvg-convert', ['-o', `${pathWithoutExt}.png`, svgPath], { stdio: 'ignore' });
    return { svg: svgPath, png: `${pathWithoutExt}.png` };
  } catch {
    return { svg: svgPath, png: null };
  }
}

/** Least-squares slope of y over x (units of y per unit of x). */
export function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function niceCeil(v: number): number {
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}

function formatNumber(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(1);
  return v.toPrecision(2);
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
