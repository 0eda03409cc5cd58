// Dashboard: the last scan at a glance, levels, the TTL distribution across
// subscribers, the warnings trend and the next scheduled scan, optionally
// for one reseller or area.
import { h, clear, when } from "../dom";
import { api, errorText, LEVELS } from "../api";
import { state } from "../state";
import { expectedTtls, ttlBars, trendChart } from "./charts";

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
  const ttl = h("div", {});
  const trend = h("div", {});

  const paint = () => {
    const rows = state.tagged();
    const counts = LEVELS.map((l) => rows.filter((r) => r.level === l).length);
    clear(levels).append(
      ...LEVELS.map((l, i) => h("div", { class: `level-count ${l}` }, h("span", { class: `badge ${l}` }, l), h("b", {}, String(counts[i])))),
    );
    // Observations per TTL summed over every subscriber in view.
    const sum = new Map<number, number>();
    for (const r of rows) for (const [t, n] of Object.entries(r.ttl_counts)) sum.set(Number(t), (sum.get(Number(t)) ?? 0) + n);
    const entries = [...sum.entries()].sort((a, b) => a[0] - b[0]);
    // Expected values of every access type in view (PPPoE and hotspot differ).
    const accessOf = new Map((state.status?.routers ?? []).map((x) => [x.name, x.access]));
    const expected = [...new Set(rows.map((r) => accessOf.get(r.nas) ?? "pppoe"))].flatMap(expectedTtls);
    clear(ttl).append(
      entries.length
        ? ttlBars(entries, expected, "ttl-distribution")
        : h("p", { class: "muted" }, "No TTL observations yet."),
      h("p", { class: "muted small" }, "Green: what a subscriber's own router (PPPoE) or a device attached directly (hotspot) sends. Lower values come from devices behind another router."),
    );
    api
      .flagTrend(tag.value || null)
      .then((points) => clear(trend).append(trendChart(points)))
      .catch((e) => showError(errorText(e)));
  };
  tag.addEventListener("change", () => {
    state.tagFilter = tag.value;
    paint();
  });
  paint();

  const next = s?.next_scan ? when(s.next_scan) : "off";
  return h(
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
      h("div", {}, h("h2", {}, "TTL distribution"), ttl),
      h("div", {}, h("h2", {}, "Warnings trend"), trend, h("p", { class: "muted small" }, "Orange: flagged (medium and above, not whitelisted). Red: high or critical.")),
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
}
