// Small charts drawn with plain elements and SVG: horizontal bars for TTL
// distributions, a line chart for the warnings trend. Sizes are set through
// the CSSOM or SVG attributes: the window's CSP forbids inline style attributes.
import { h } from "../dom";
import type { TrendPoint } from "../api";

/** The TTLs a device at the expected distance sends, by access type. */
export function expectedTtls(access: string): number[] {
  return access === "hotspot" ? [64, 128] : [63, 127];
}

/** One horizontal bar per TTL, the expected ones marked. */
export function ttlBars(entries: [number, number][], expected: number[], testid: string): HTMLElement {
  const max = Math.max(1, ...entries.map(([, n]) => n));
  return h(
    "div",
    { class: "histogram", "data-testid": testid },
    ...entries.map(([ttl, n]) => {
      const fill = h("span", { class: "hfill" });
      fill.style.width = `${Math.max(2, (100 * n) / max)}%`;
      return h(
        "div",
        { class: expected.includes(ttl) ? "hbar expected" : "hbar", "data-ttl": ttl },
        h("span", { class: "hlabel" }, String(ttl)),
        h("span", { class: "htrack" }, fill),
        h("span", { class: "hcount" }, `${n.toLocaleString()}${expected.includes(ttl) ? " · expected" : ""}`),
      );
    }),
  );
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Flagged (and high or critical) subscribers per scan, oldest on the left. */
export function trendChart(points: TrendPoint[]): Element {
  if (points.length === 0) return h("p", { class: "muted" }, "No scans yet.");
  const W = 560, H = 180, L = 36, B = 24, T = 10;
  const max = Math.max(1, ...points.map((p) => p.flagged));
  const x = (i: number) => L + (points.length === 1 ? (W - L) / 2 : (i * (W - L - 10)) / (points.length - 1));
  const y = (v: number) => T + (H - T - B) * (1 - v / max);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": "Flagged subscribers per scan", "data-testid": "warnings-trend" });
  root.append(svg("line", { x1: L, y1: H - B, x2: W, y2: H - B, class: "axis" }));
  root.append(svg("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
  root.append(svg("text", { x: 4, y: y(max) + 4 }, String(max)));
  root.append(svg("text", { x: 4, y: H - B + 4 }, "0"));
  for (const [key, cls] of [["flagged", "line"], ["high", "line high"]] as const) {
    root.append(svg("polyline", { class: cls, points: points.map((p, i) => `${x(i)},${y(p[key])}`).join(" ") }));
  }
  points.forEach((p, i) => {
    const dot = svg("circle", { cx: x(i), cy: y(p.flagged), r: 3, class: "dot" });
    dot.append(svg("title", {}, `${new Date(p.at).toLocaleString()}: ${p.flagged} flagged (${p.high} high or critical) of ${p.checked}`));
    root.append(dot);
  });
  const first = new Date(points[0].at).toLocaleDateString();
  const last = new Date(points[points.length - 1].at).toLocaleDateString();
  root.append(svg("text", { x: L, y: H - 6 }, first));
  root.append(svg("text", { x: W - 70, y: H - 6 }, last));
  return root;
}
