// "Export PDF" / "Export CSV": the system's save dialog picks the file, the
// backend writes the report, and the owner is told where it went.
import { h, count, toast } from "../dom";
import { api, errorText, type ReportAsk } from "../api";

export function exportButtons(ask: () => ReportAsk, formats: ("pdf" | "csv")[], showError: (m: string) => void, say?: (m: string) => void): HTMLElement {
  const tell = (m: string) => (say ? say(m) : toast(m, "export-status"));
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
            if (r) tell(`Saved ${r.path} (${Math.max(1, Math.round(r.bytes / 1024)).toLocaleString()} kB${r.pages ? `, ${count(r.pages, "page")}` : ""}, ${count(r.rows, "row")}).${r.notice ? ` ${r.notice}` : ""}`);
          } catch (e) {
            showError(errorText(e));
          }
        },
      }, f === "pdf" ? "Export PDF" : "Export CSV"),
    ),
  );
}
