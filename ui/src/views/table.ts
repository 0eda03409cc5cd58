// A results table that stays fast at tens of thousands of rows: it sorts and
// filters an in-memory array and renders only the rows in view.
import { h, clear } from "../dom";
import { LEVELS, type ResultRow } from "../api";

const ROW_HEIGHT = 34;

type Key = "subscriber" | "nas" | "tag" | "connections" | "ttl" | "ttl_status" | "level" | "reasons";

const COLUMNS: { key: Key; label: string }[] = [
  { key: "subscriber", label: "Subscriber" },
  { key: "nas", label: "Router" },
  { key: "tag", label: "Tag" },
  { key: "connections", label: "Connections" },
  { key: "ttl", label: "TTL values" },
  { key: "ttl_status", label: "TTL status" },
  { key: "level", label: "Level" },
  { key: "reasons", label: "Reasons" },
];

/** What the row buttons do; absent ones are not offered (no permission). */
export interface RowActions {
  disconnect?: (r: ResultRow) => void;
  whitelist?: (r: ResultRow) => void;
  open: (r: ResultRow) => void;
}

function compare(a: ResultRow, b: ResultRow, key: Key, tagOf: (r: ResultRow) => string): number {
  switch (key) {
    case "tag":
      return tagOf(a).localeCompare(tagOf(b));
    case "connections":
      return a.connections - b.connections;
    case "level":
      return LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) || a.connections - b.connections;
    case "ttl":
      return a.ttl_values.join(",").localeCompare(b.ttl_values.join(","));
    case "reasons":
      return a.reasons.length - b.reasons.length;
    default:
      return String(a[key]).localeCompare(String(b[key]));
  }
}

export class ResultsTable {
  readonly root: HTMLElement;
  private viewport: HTMLElement;
  private spacer: HTMLElement;
  private body: HTMLElement;
  private rows: ResultRow[] = [];
  private shown: ResultRow[] = [];
  private sortKey: Key = "level";
  private descending = true;
  private query = "";
  private minLevel = 0;
  private tag = "";
  /** Milliseconds the last filter-and-sort took (shown for the record). */
  lastApplyMs = 0;

  constructor(
    private onOpen: (r: ResultRow) => void,
    private tagOf: (r: ResultRow) => string,
    private actions: () => RowActions,
  ) {
    const head = h(
      "div",
      { class: "thead", role: "row" },
      ...COLUMNS.map((c) =>
        h("div", { class: `th col-${c.key}`, role: "columnheader", onclick: () => this.sortBy(c.key) }, c.label),
      ),
      h("div", { class: "th col-actions", role: "columnheader" }, "Actions"),
    );
    this.body = h("div", { class: "rows" });
    this.spacer = h("div", { class: "spacer" }, this.body);
    this.viewport = h("div", { class: "viewport", onscroll: () => this.paint() }, this.spacer);
    this.root = h("div", { class: "table", role: "table", "data-testid": "results-table" }, head, this.viewport);
  }

  setRows(rows: ResultRow[], withTags = false): void {
    this.root.classList.toggle("with-tags", withTags);
    this.rows = rows;
    this.apply();
  }

  filter(query: string, minLevel: number, tag = ""): void {
    this.query = query.trim().toLowerCase();
    this.minLevel = minLevel;
    this.tag = tag;
    this.apply();
  }

  get count(): number {
    return this.shown.length;
  }

  private sortBy(key: Key): void {
    this.descending = this.sortKey === key ? !this.descending : key === "level" || key === "connections";
    this.sortKey = key;
    this.apply();
  }

  private apply(): void {
    const started = performance.now();
    const q = this.query;
    const tag = this.tag;
    this.shown = this.rows.filter(
      (r) =>
        LEVELS.indexOf(r.level) >= this.minLevel &&
        (!tag || this.tagOf(r) === tag) &&
        (!q || r.subscriber.toLowerCase().includes(q) || r.address.includes(q) || r.nas.toLowerCase().includes(q)),
    );
    const dir = this.descending ? -1 : 1;
    this.shown.sort((a, b) => dir * compare(a, b, this.sortKey, this.tagOf));
    this.spacer.style.height = `${this.shown.length * ROW_HEIGHT}px`;
    this.paint();
    this.lastApplyMs = performance.now() - started;
    this.root.dataset.filterMs = this.lastApplyMs.toFixed(1);
  }

  private paint(): void {
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - 5);
    const last = Math.min(this.shown.length, Math.ceil((top + height) / ROW_HEIGHT) + 5);
    this.body.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    clear(this.body);
    const act = this.actions();
    // A row button acts on its own; the click must not also open the row.
    const button = (label: string, testid: string, f: (r: ResultRow) => void, r: ResultRow, cls = "") =>
      h(
        "button",
        {
          class: `small ${cls}`,
          "data-testid": testid,
          onclick: (e: Event) => {
            e.stopPropagation();
            f(r);
          },
        },
        label,
      );
    for (let i = first; i < last; i++) {
      const r = this.shown[i];
      const rowActions = h("div", { class: "td col-actions" });
      if (r.disconnected_at) {
        rowActions.append(h("span", { class: "badge offline", "data-testid": "disconnected", title: `Disconnected ${new Date(r.disconnected_at).toLocaleString()}` }, "disconnected"));
      } else if (act.disconnect && !r.whitelisted && r.level !== "normal") {
        rowActions.append(button("Disconnect", "action-disconnect", act.disconnect, r, "danger"));
      }
      if (act.whitelist && !r.whitelisted && r.level !== "normal") {
        rowActions.append(button("Whitelist", "row-whitelist", act.whitelist, r));
      }
      rowActions.append(button("Open", "row-open", act.open, r, "link"));
      this.body.append(
        h(
          "div",
          {
            class: `tr level-${r.level}`,
            role: "row",
            tabindex: 0,
            "data-testid": "result-row",
            "data-subscriber": r.subscriber,
            "data-level": r.level,
            onclick: () => this.onOpen(r),
          },
          h("div", { class: "td col-subscriber" }, r.subscriber),
          h("div", { class: "td col-nas" }, r.nas),
          h("div", { class: "td col-tag muted" }, this.tagOf(r)),
          h("div", { class: "td col-connections" }, String(r.connections)),
          h("div", { class: "td col-ttl" }, r.ttl_values.join(", ") || "–"),
          h("div", { class: "td col-ttl_status" }, r.ttl_status.replace(/_/g, " ")),
          h(
            "div",
            { class: "td col-level" },
            h("span", { class: `badge ${r.level}` }, r.whitelisted ? "whitelisted" : r.level),
          ),
          h("div", { class: "td col-reasons muted", title: r.reasons.join("\n") }, r.reasons[0] ?? ""),
          rowActions,
        ),
      );
    }
  }
}
