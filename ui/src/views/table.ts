// A results table that stays fast at tens of thousands of rows: it sorts and
// filters an in-memory array and renders only the rows in view.
import { h, clear } from "../dom";
import { LEVELS, type SubscriberResult } from "../api";

const ROW_HEIGHT = 34;

type Key = "subscriber" | "nas" | "tag" | "connections" | "ttl" | "ttl_status" | "level";

const COLUMNS: { key: Key; label: string }[] = [
  { key: "subscriber", label: "Subscriber" },
  { key: "nas", label: "Router" },
  { key: "tag", label: "Tag" },
  { key: "connections", label: "Connections" },
  { key: "ttl", label: "TTL values" },
  { key: "ttl_status", label: "TTL status" },
  { key: "level", label: "Level" },
];

function compare(a: SubscriberResult, b: SubscriberResult, key: Key, tagOf: (r: SubscriberResult) => string): number {
  switch (key) {
    case "tag":
      return tagOf(a).localeCompare(tagOf(b));
    case "connections":
      return a.connections - b.connections;
    case "level":
      return LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) || a.connections - b.connections;
    case "ttl":
      return a.ttl_values.join(",").localeCompare(b.ttl_values.join(","));
    default:
      return String(a[key]).localeCompare(String(b[key]));
  }
}

export class ResultsTable {
  readonly root: HTMLElement;
  private viewport: HTMLElement;
  private spacer: HTMLElement;
  private body: HTMLElement;
  private rows: SubscriberResult[] = [];
  private shown: SubscriberResult[] = [];
  private sortKey: Key = "level";
  private descending = true;
  private query = "";
  private minLevel = 0;
  private tag = "";
  /** Milliseconds the last filter-and-sort took (shown for the record). */
  lastApplyMs = 0;

  constructor(
    private onOpen: (r: SubscriberResult) => void,
    private tagOf: (r: SubscriberResult) => string,
  ) {
    const head = h(
      "div",
      { class: "thead", role: "row" },
      ...COLUMNS.map((c) =>
        h("div", { class: `th col-${c.key}`, role: "columnheader", onclick: () => this.sortBy(c.key) }, c.label),
      ),
    );
    this.body = h("div", { class: "rows" });
    this.spacer = h("div", { class: "spacer" }, this.body);
    this.viewport = h("div", { class: "viewport", onscroll: () => this.paint() }, this.spacer);
    this.root = h("div", { class: "table", role: "table", "data-testid": "results-table" }, head, this.viewport);
  }

  setRows(rows: SubscriberResult[]): void {
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
    for (let i = first; i < last; i++) {
      const r = this.shown[i];
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
        ),
      );
    }
  }
}
