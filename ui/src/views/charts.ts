// Charts are drawn in the backend (plotters, the same pictures as the PDF
// reports) and arrive as SVG in the window's theme. They are parsed as XML
// and placed inline, so their text stays crisp and selectable; the window's
// CSP allows this because plotters writes presentation attributes, never
// style attributes or scripts.
import { h } from "../dom";
import type { Theme } from "../api";

const darkScheme = window.matchMedia("(prefers-color-scheme: dark)");

/** The theme the window is drawn in, for the backend to match. */
export function theme(): Theme {
  return darkScheme.matches ? "dark" : "light";
}

/** Redraws when the system switches between light and dark, while `el` is on the page. */
export function onThemeChange(el: HTMLElement, redraw: () => void): void {
  const changed = () => {
    if (!el.isConnected) {
      darkScheme.removeEventListener("change", changed);
      return;
    }
    redraw();
  };
  darkScheme.addEventListener("change", changed);
}

/** Places one SVG chart, scaled to its container's width. */
export function svgChart(svgText: string, label: string, testid: string): Element {
  const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
  const root = doc.documentElement;
  if (root.localName !== "svg" || doc.getElementsByTagName("parsererror").length > 0) {
    return h("p", { class: "muted", "data-testid": testid }, `The ${label} chart could not be shown.`);
  }
  const el = document.importNode(root, true);
  el.removeAttribute("width");
  el.removeAttribute("height");
  el.setAttribute("class", "chart");
  el.setAttribute("role", "img");
  el.setAttribute("aria-label", label);
  el.setAttribute("data-testid", testid);
  return el;
}
