// The audit log: who did what, newest first.
import { h, when } from "../dom";
import { api, errorText } from "../api";

export function auditView(showError: (m: string) => void): HTMLElement {
  const body = h("tbody");
  const table = h(
    "table",
    { class: "plain", "data-testid": "audit-table" },
    h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "Who"), h("th", {}, "Action"), h("th", {}, "Subject"))),
    body,
  );
  api
    .auditLog(500)
    .then((entries) => {
      body.append(
        ...entries.map((e) =>
          h("tr", { "data-action": e.action }, h("td", {}, when(e.at)), h("td", {}, e.operator), h("td", {}, e.action.replace(/_/g, " ")), h("td", {}, e.subject ?? "")),
        ),
      );
    })
    .catch((e) => showError(errorText(e)));
  return h("section", { class: "view" }, h("h1", {}, "Audit log"), table);
}
