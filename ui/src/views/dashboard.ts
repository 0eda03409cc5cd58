// Dashboard: the last scan at a glance.
import { h, when } from "../dom";
import { LEVELS } from "../api";
import { state } from "../state";

export function dashboardView(): HTMLElement {
  const s = state.status;
  const last = s?.last_scan;
  const counts = LEVELS.map((l) => state.results.filter((r) => r.level === l).length);
  return h(
    "section",
    { class: "view" },
    h("h1", {}, "Dashboard"),
    h(
      "div",
      { class: "cards" },
      h("div", { class: "card" }, h("div", { class: "big" }, last ? String(last.checked) : "–"), "subscribers checked"),
      h("div", { class: "card" }, h("div", { class: "big" }, last ? String(last.flagged) : "–"), "flagged (medium and above)"),
      h("div", { class: "card" }, h("div", { class: "big" }, String(s?.routers.length ?? 0)), "routers"),
      h("div", { class: "card" }, h("div", { class: "big small" }, last ? when(last.started_at) : "never"), "last scan"),
    ),
    h("h2", {}, "Subscribers by level"),
    h(
      "div",
      { class: "levels" },
      ...LEVELS.map((l, i) => h("div", { class: `level-count ${l}` }, h("span", { class: `badge ${l}` }, l), h("b", {}, String(counts[i])))),
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
