// Dashboard: the last scan at a glance, levels, the TTL distribution across
// subscribers (or on one router), connection counts, the flagged-per-scan
// trend and the next scheduled scan, optionally for one reseller or area.
import { h, clear, when, thousands } from "../dom";
import { api, errorText, LEVELS, type DashboardCharts } from "../api";
import { state } from "../state";
import { onThemeChange, svgChart, theme } from "./charts";

export function dashboardView(showError: (m: string) => void): HTMLElement {
  const s = state.status;
  const last = s?.last_scan;
  const tag = h(
    "select",
    { "aria-label": "Reseller or area", "data-testid": "dashboard-tag" },
    h("option", { value: "" }, "All tags"),
    ...(s?.tags ?? []).map((t) => h("option", { value: t }, t)),
  ) as HTMLSelectElement;
  tag.value = state.tagFilter;
  const levels = h("div", { class: "levels" });
  const router = h(
    "select",
    { "aria-label": "Router", "data-testid": "ttl-router" },
    h("option", { value: "" }, "All routers"),
  ) as HTMLSelectElement;
  const ttl = h("div", {});
  const connections = h("div", {});
  const trend = h("div", {});
  let charts: DashboardCharts | null = null;

  const showTtl = () => {
    if (!charts) return;
    const one = charts.ttl_by_router.find((r) => r.router === router.value);
    clear(ttl).append(svgChart(one ? one.svg : charts.ttl, one ? `TTL distribution on ${one.router}` : "TTL distribution", "ttl-distribution"));
  };

  const paint = () => {
    api
      .dashboardCharts(tag.value || null, theme())
      .then((c) => {
        charts = c;
        clear(levels).append(
          ...LEVELS.map((l, i) => h("div", { class: `level-count ${l}`, "data-level": l }, h("span", { class: `badge ${l}` }, l), h("b", {}, thousands(c.levels[i])))),
        );
        const keep = router.value;
        clear(router).append(h("option", { value: "" }, "All routers"), ...c.ttl_by_router.map((r) => h("option", { value: r.router }, r.router)));
        router.value = c.ttl_by_router.some((r) => r.router === keep) ? keep : "";
        showTtl();
        clear(connections).append(svgChart(c.connections, "Subscribers by connection count", "connections-chart"));
        clear(trend).append(svgChart(c.trend, "Flagged subscribers per scan", "warnings-trend"));
      })
      .catch((e) => showError(errorText(e)));
  };
  router.addEventListener("change", showTtl);
  tag.addEventListener("change", () => {
    state.tagFilter = tag.value;
    paint();
  });
  paint();

  const next = s?.next_scan ? when(s.next_scan) : "off";
  const view = h(
    "section",
    { class: "view" },
    h("header", { class: "toolbar" }, h("h1", {}, "Dashboard"), tag),
    h(
      "div",
      { class: "cards" },
      h("div", { class: "card" }, h("div", { class: "big" }, last ? String(last.checked) : "–"), "subscribers checked"),
      h("div", { class: "card" }, h("div", { class: "big" }, last ? String(last.flagged) : "–"), "flagged (medium and above)"),
      h("div", { class: "card" }, h("div", { class: "big small" }, last ? when(last.started_at) : "never"), "last scan"),
      h("div", { class: "card", "data-testid": "next-scan" }, h("div", { class: "big small" }, next), "next scheduled scan"),
    ),
    h("h2", {}, "Subscribers by level"),
    levels,
    h(
      "div",
      { class: "charts" },
      h(
        "div",
        {},
        h("div", { class: "chart-head" }, h("h2", {}, "TTL distribution"), router),
        ttl,
        h("p", { class: "muted small" }, "Expected: what a subscriber's own router (PPPoE) or a device attached directly (hotspot) sends. Lower values come from devices behind another router."),
      ),
      h("div", {}, h("h2", {}, "Connections per subscriber"), connections, h("p", { class: "muted small" }, "The lines mark the connection thresholds of the sharing settings.")),
      h("div", {}, h("h2", {}, "Flagged per scan"), trend),
    ),
    h("h2", {}, "Routers in the last scan"),
    last
      ? h(
          "table",
          { class: "plain" },
          h("tr", {}, h("th", {}, "Router"), h("th", {}, "Status"), h("th", {}, "Sessions"), h("th", {}, "Connections"), h("th", {}, "Notes")),
          ...last.nas.map((n) =>
            h("tr", {}, h("td", {}, n.nas), h("td", {}, n.status), h("td", {}, String(n.sessions)), h("td", {}, String(n.connections)),
              h("td", {}, [n.error, ...n.warnings].filter(Boolean).join(" "))),
          ),
        )
      : h("p", { class: "muted" }, "No scan yet."),
  );
  onThemeChange(view, paint);
  return view;
}
