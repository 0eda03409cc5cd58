// The audit log: who did what, newest first, filtered on the backend (the
// log grows without bound).
import { exportButtons } from "./export";
import { h, clear, when } from "../dom";
import { api, errorText } from "../api";

const ACTIONS = [
  "scan",
  "flag",
  "whitelist_add",
  "whitelist_remove",
  "results_cleared",
  "nas_added",
  "nas_updated",
  "nas_removed",
  "probes_installed",
  "probes_removed",
  "settings_changed",
  "disconnect",
];

export function auditView(showError: (m: string) => void): HTMLElement {
  const body = h("tbody");
  const action = h(
    "select",
    { "aria-label": "Action", "data-testid": "audit-action" },
    h("option", { value: "" }, "All actions"),
    ...ACTIONS.map((a) => h("option", { value: a }, a.replace(/_/g, " "))),
  ) as HTMLSelectElement;
  const subject = h("input", { type: "search", placeholder: "Subscriber or router (exact)", "aria-label": "Subject", "data-testid": "audit-subject" }) as HTMLInputElement;
  const operator = h("input", { type: "search", placeholder: "Who (exact)", "aria-label": "Operator" }) as HTMLInputElement;
  const count = h("span", { class: "muted" });

  let timer = 0;
  const load = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => {
      api
        .auditLog(1000, { action: action.value, subject: subject.value, operator: operator.value })
        .then((entries) => {
          count.textContent = `${entries.length}${entries.length === 1000 ? "+" : ""} entries`;
          clear(body).append(
            ...entries.map((e) =>
              h("tr", { "data-action": e.action }, h("td", {}, when(e.at)), h("td", {}, e.operator), h("td", {}, e.action.replace(/_/g, " ")), h("td", {}, e.subject ?? ""), h("td", { class: "muted small" }, summary(e.details))),
            ),
          );
        })
        .catch((e) => showError(errorText(e)));
    }, 150);
  };
  action.addEventListener("change", load);
  subject.addEventListener("input", load);
  operator.addEventListener("input", load);
  load();
  return h(
    "section",
    { class: "view" },
    h("header", { class: "toolbar" }, h("h1", {}, "Audit log"), exportButtons(() => ({ kind: "audit" }), ["csv"], (m) => window.alert(m))),
    h("div", { class: "filters" }, action, subject, operator, count),
    h(
      "table",
      { class: "plain", "data-testid": "audit-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "Who"), h("th", {}, "Action"), h("th", {}, "Subject"), h("th", {}, "Details"))),
      body,
    ),
  );
}

/** An entry's details in one line: its plain values, long lists shortened. */
function summary(details: unknown): string {
  if (!details || typeof details !== "object") return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(details as Record<string, unknown>)) {
    if (v === null || v === undefined || v === "" || typeof v === "object" && !Array.isArray(v)) continue;
    const text = Array.isArray(v) ? (v.length > 3 ? `${v.slice(0, 3).join(", ")} and ${v.length - 3} more` : v.join(", ")) : String(v);
    parts.push(`${k.replace(/_/g, " ")}: ${text}`);
  }
  const line = parts.join(" · ");
  return line.length > 240 ? line.slice(0, 239) + "…" : line;
}
