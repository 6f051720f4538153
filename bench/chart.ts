/**
 * Draws bench/results/echo.json (written by bench/echo.ts) as a hand-written SVG bar chart:
 * one panel per workload, one bar per server, bar height = throughput relative to node:net,
 * labelled with the absolute number and the server's CPU time per message.
 *
 *   npx tsx bench/chart.ts [out = docs/benchmarks-echo.svg]
 *
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Data {
  meta: { date: string; node: string; cpus: number; model?: string; seconds: number; rounds: number; syncBudget?: string };
  workloads: { key: string; title: string; unit: string }[];
  servers: string[];
  results: Record<string, Record<string, { value: number; cpuUsPerMsg: number }>>;
}

const input = path.join(__dirname, 'results', 'echo.json');
const out = process.argv[2] ?? path.join(__dirname, '..', 'docs', 'benchmarks-echo.svg');
const data = JSON.parse(fs.readFileSync(input, 'utf8')) as Data;

const colors = ['#8a8a8a', '#3b7dd8', '#1f9e6e', '#7a5cc7', '#c75c8a', '#d88a3b'];
const barW = 44;
const gap = 10;
const panelW = Math.max(300, data.servers.length * (barW + gap) + 40);
const panelH = 300;
const top = 70;
const left = 50;
const width = left + data.workloads.length * panelW + 20;
const height = top + panelH + 90;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

const maxRatio = Math.max(
  2,
  ...data.workloads.flatMap((w) => data.servers.map((s) => data.results[w.key][s].value / data.results[w.key]['node:net'].value)),
);
const yMax = Math.ceil(maxRatio * 2) / 2;
const y = (r: number): number => top + panelH - (r / yMax) * panelH;

const parts: string[] = [];
parts.push(
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
  `<rect width="100%" height="100%" fill="white"/>`,
  `<text x="${left}" y="22" font-size="16" font-weight="bold">Echo throughput relative to node:net (higher is better)</text>`,
  `<text x="${left}" y="42" fill="#555">${esc(
    `${data.meta.date.slice(0, 10)}, node ${data.meta.node}, ${data.meta.cpus} CPUs; median of ${data.meta.rounds} × ${data.meta.seconds}s; CORIO_SYNC_BUDGET ${data.meta.syncBudget ?? 'not recorded'}; labels: absolute throughput / server CPU µs per message`,
  )}</text>`,
);
for (let t = 0; t <= yMax + 1e-9; t += 0.5) {
  parts.push(
    `<line x1="${left}" x2="${width - 20}" y1="${y(t)}" y2="${y(t)}" stroke="${t === 1 ? '#999' : '#eee'}"${t === 1 ? ' stroke-dasharray="4 3"' : ''}/>`,
    `<text x="${left - 6}" y="${y(t) + 4}" text-anchor="end" fill="#555">${t.toFixed(1)}×</text>`,
  );
}
data.workloads.forEach((w, wi) => {
  const x0 = left + wi * panelW + 20;
  const base = data.results[w.key]['node:net'].value;
  data.servers.forEach((s, si) => {
    const r = data.results[w.key][s];
    const ratio = r.value / base;
    const x = x0 + si * (barW + gap);
    parts.push(
      `<rect x="${x}" y="${y(ratio)}" width="${barW}" height="${y(0) - y(ratio)}" fill="${colors[si % colors.length]}"/>`,
      `<text x="${x + barW / 2}" y="${y(ratio) - 18}" text-anchor="middle" font-size="11">${ratio.toFixed(2)}×</text>`,
      `<text x="${x + barW / 2}" y="${y(ratio) - 5}" text-anchor="middle" font-size="9" fill="#555">${esc(num(r.value))}/${r.cpuUsPerMsg.toFixed(1)}µs</text>`,
    );
  });
  parts.push(`<text x="${x0 + (data.servers.length * (barW + gap) - gap) / 2}" y="${top + panelH + 20}" text-anchor="middle" font-weight="bold">${esc(w.title)}</text>`);
  parts.push(`<text x="${x0 + (data.servers.length * (barW + gap) - gap) / 2}" y="${top + panelH + 36}" text-anchor="middle" fill="#555">${esc(w.unit)}</text>`);
});
data.servers.forEach((s, si) => {
  const x = left + si * Math.max(120, (width - left) / data.servers.length);
  parts.push(
    `<rect x="${x}" y="${height - 26}" width="12" height="12" fill="${colors[si % colors.length]}"/>`,
    `<text x="${x + 18}" y="${height - 16}">${esc(s)}</text>`,
  );
});
parts.push('</svg>');
fs.writeFileSync(out, parts.join('\n') + '\n');
console.log(`wrote ${path.relative(process.cwd(), out)}`);
