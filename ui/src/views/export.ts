// "Export PDF" / "Export CSV": the system's save dialog picks the file, the
// backend writes the report, and the owner is told where it went.
import { h } from "../dom";
import { api, errorText, type ReportAsk } from "../api";

export function exportButtons(ask: () => ReportAsk, formats: ("pdf" | "csv")[], showError: (m: string) => void, say?: (m: string) => void): HTMLElement {
  const status = h("span", { class: "muted small", "data-testid": "export-status" });
  const tell = (m: string) => (say ? say(m) : (status.textContent = m));
  return h(
    "span",
    { class: "export" },
    ...formats.map((f) =>
      h("button", {
        "data-testid": `export-${f}`,
        title: f === "pdf" ? "Save a PDF report" : "Save a CSV file for a spreadsheet",
        onclick: async () => {
          try {
            const r = await api.saveReport(ask(), f);
            if (r) tell(`Saved ${r.path} (${Math.max(1, Math.round(r.bytes / 1024))} kB${r.pages ? `, ${r.pages} page(s)` : ""}, ${r.rows} row(s)).${r.notice ? ` ${r.notice}` : ""}`);
          } catch (e) {
            showError(errorText(e));
          }
        },
      }, f === "pdf" ? "Export PDF" : "Export CSV"),
    ),
    status,
  );
}
