// The audit log: who did what, newest first, filtered on the backend (the
// log grows without bound).
import { exportButtons } from "./export";
import { h, clear, thousands, when } from "../dom";
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
              h("tr", { "data-action": e.action }, h("td", { class: "nowrap" }, when(e.at)), h("td", {}, e.operator), h("td", {}, e.action.replace(/_/g, " ")), h("td", { class: "nowrap" }, e.subject ?? ""), h("td", { class: "muted small" }, summary(e.details))),
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
/** Keys that only cross-reference other records (ids, flags for the
 * notification layer): left out of the one-line summary. */
const HIDDEN = new Set(["warning", "shown", "source", "action_id", "id"]);
/** Keys whose value is a sentence already: shown first, without the key. */
const SENTENCES = ["details", "reason", "body", "message", "note"];

/** An entry's details in one line of words: its sentence first, then the
 * other fields, identifiers without underscores and numbers grouped. */
function summary(details: unknown): string {
  if (!details || typeof details !== "object") return "";
  const fields = details as Record<string, unknown>;
  const word = (v: unknown): string =>
    typeof v === "number" ? thousands(v) : typeof v === "string" && /^[a-z0-9_]+$/.test(v) ? v.replace(/_/g, " ") : String(v);
  const parts: string[] = [];
  for (const k of SENTENCES) {
    if (typeof fields[k] === "string" && fields[k]) parts.push(String(fields[k]));
  }
  for (const [k, v] of Object.entries(fields)) {
    if (HIDDEN.has(k) || SENTENCES.includes(k)) continue;
    if (v === null || v === undefined || v === "" || typeof v === "object" && !Array.isArray(v)) continue;
    const text = Array.isArray(v) ? (v.length > 3 ? `${v.slice(0, 3).map(word).join(", ")} and ${v.length - 3} more` : v.map(word).join(", ")) : word(v);
    parts.push(`${k.replace(/_/g, " ")}: ${text}`);
  }
  const line = parts.join(" · ");
  return line.length > 240 ? line.slice(0, 239) + "…" : line;
}
