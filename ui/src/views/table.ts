// The results table. The store filters, sorts and pages; the window holds
// only the pages around what is in view, so 30,000 subscribers cost the page
// no more than 300 and every filter is one small query.
import { h, clear, thousands, whenFull } from "../dom";
import { ttlStatusWords } from "../words";
import { api, errorText, LEVELS, type ResultOrder, type ResultRow } from "../api";

const ROW_HEIGHT = 34;
/** Rows per request: a few screens. */
const PAGE = 100;
/** Pages kept around the view; farther ones are dropped and read again if needed. */
const KEEP_PAGES = 6;

const COLUMNS: { key: ResultOrder; label: string }[] = [
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

/** The filters the owner has set. */
export interface TableFilter {
  search: string;
  /** Index into LEVELS; 0 shows every level. */
  minLevel: number;
  tag: string;
}

export class ResultsTable {
  readonly root: HTMLElement;
  private viewport: HTMLElement;
  private spacer: HTMLElement;
  private body: HTMLElement;
  private order: ResultOrder = "level";
  private ascending = false;
  private filter: TableFilter = { search: "", minLevel: 0, tag: "" };
  /** Pages of the current listing by index, and the listing's last pages
   *  while a reload reads them again (shown meanwhile, so nothing flickers). */
  private pages = new Map<number, ResultRow[]>();
  private stale = new Map<number, ResultRow[]>();
  /** Pages the view needs, nearest first. */
  private wanted: number[] = [];
  /** One request at a time: while the owner types, only the latest filter
   *  is asked for next, instead of a queue of every keystroke's. */
  private busy = false;
  /** A listing whose read failed is not asked for again until it changes. */
  private failedGeneration = -1;
  /** Bumped whenever the listing changes; answers to older requests are dropped. */
  private generation = 0;
  /** When the current filter was set, until its first page is painted. */
  private filterStarted: number | null = null;
  matched = 0;
  total = 0;

  constructor(
    private onOpen: (r: ResultRow) => void,
    private actions: () => RowActions,
    private onCounts: () => void,
    private onError: (m: string) => void,
  ) {
    const head = h(
      "div",
      { class: "thead", role: "row" },
      ...COLUMNS.map((c) =>
        h("div", { class: `th col-${c.key}`, role: "columnheader", "data-order": c.key, onclick: () => this.sortBy(c.key) }, c.label),
      ),
      h("div", { class: "th col-actions", role: "columnheader" }, "Actions"),
    );
    this.body = h("div", { class: "rows" });
    this.spacer = h("div", { class: "spacer" }, this.body);
    this.viewport = h("div", { class: "viewport", onscroll: () => this.paint() }, this.spacer);
    this.root = h("div", { class: "table", role: "table", "data-testid": "results-table" }, head, this.viewport);
    this.markSort();
  }

  /** Shows the tag column (when any router or subscriber has a tag). */
  showTags(on: boolean): void {
    this.root.classList.toggle("with-tags", on);
  }

  /** A new filter: a new listing, read from its first row. */
  setFilter(filter: TableFilter): void {
    this.filter = { ...filter, search: filter.search.trim() };
    this.filterStarted = performance.now();
    delete this.root.dataset.filterMs;
    this.restart(false);
    this.viewport.scrollTop = 0;
  }

  /** Reads the same listing again (after a scan or an action), keeping the
   *  scroll position and showing the old rows until the new ones arrive. */
  reload(): void {
    this.restart(true);
  }

  private restart(keepShown: boolean): void {
    this.generation++;
    this.stale = keepShown ? new Map([...this.stale, ...this.pages]) : new Map();
    this.pages = new Map();
    this.paint();
  }

  private sortBy(key: ResultOrder): void {
    this.ascending = this.order === key ? !this.ascending : !(key === "level" || key === "connections" || key === "reasons");
    this.order = key;
    this.markSort();
    this.filterStarted = performance.now();
    this.restart(false);
  }

  private markSort(): void {
    for (const th of this.root.querySelectorAll<HTMLElement>(".th[data-order]")) {
      th.setAttribute("aria-sort", th.dataset.order === this.order ? (this.ascending ? "ascending" : "descending") : "none");
    }
  }

  /** Reads the next page the view needs, if no read is under way. */
  private pump(): void {
    if (this.busy || this.failedGeneration === this.generation) return;
    const index = this.wanted.find((i) => !this.pages.has(i));
    if (index === undefined) return;
    this.busy = true;
    void this.read(index).finally(() => {
      this.busy = false;
      this.pump();
    });
  }

  /** Asks the store for one page of the current listing. */
  private async read(index: number): Promise<void> {
    const generation = this.generation;
    try {
      const page = await api.resultsPage({
        search: this.filter.search || null,
        min_level: this.filter.minLevel > 0 ? LEVELS[this.filter.minLevel] : null,
        tag: this.filter.tag || null,
        order: this.order,
        ascending: this.ascending,
        offset: index * PAGE,
        limit: PAGE,
      });
      if (generation !== this.generation) return;
      this.pages.set(index, page.rows);
      this.dropFarPages(index);
      if (page.matched !== this.matched || page.total !== this.total) {
        this.matched = page.matched;
        this.total = page.total;
        this.onCounts();
      }
      this.paint();
      if (this.filterStarted !== null) {
        this.root.dataset.filterMs = (performance.now() - this.filterStarted).toFixed(1);
        this.filterStarted = null;
      }
      if (this.pages.size >= this.stale.size) this.stale.clear();
    } catch (e) {
      if (generation === this.generation) {
        this.failedGeneration = generation;
        this.onError(errorText(e));
      }
    }
  }

  private dropFarPages(near: number): void {
    for (const i of this.pages.keys()) {
      if (this.pages.size <= KEEP_PAGES) break;
      if (Math.abs(i - near) > KEEP_PAGES / 2) this.pages.delete(i);
    }
  }

  private rowAt(i: number): ResultRow | undefined {
    const index = Math.floor(i / PAGE);
    return (this.pages.get(index) ?? this.stale.get(index))?.[i % PAGE];
  }

  private paint(): void {
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 600;
    const count = this.pages.size || this.stale.size ? this.matched : 0;
    this.spacer.style.height = `${count * ROW_HEIGHT}px`;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - 5);
    const last = Math.min(count, Math.ceil((top + height) / ROW_HEIGHT) + 5);
    // The first page of a listing is read before its size is known.
    this.wanted = [...new Set([Math.floor(first / PAGE), Math.floor(Math.max(first, last - 1) / PAGE)])];
    this.pump();
    this.body.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    clear(this.body);
    const act = this.actions();
    if (this.pages.size && this.matched === 0) {
      this.body.append(
        h("div", { class: "empty muted", "data-testid": "results-empty" }, this.total ? "No subscriber matches these filters." : "No results yet: scan to fill the table."),
      );
    }
    for (let i = first; i < last; i++) {
      const r = this.rowAt(i);
      this.body.append(r ? this.row(r, act) : h("div", { class: "tr pending", role: "row", "aria-busy": "true" }, h("div", { class: "td muted" }, "…")));
    }
  }

  private row(r: ResultRow, act: RowActions): HTMLElement {
    // A row button acts on its own; the click must not also open the row.
    const button = (label: string, testid: string, f: (r: ResultRow) => void, cls = "") =>
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
    const rowActions = h("div", { class: "td col-actions" });
    if (r.disconnected_at) {
      rowActions.append(h("span", { class: "badge offline", "data-testid": "disconnected", title: `Disconnected ${whenFull(r.disconnected_at)}` }, "disconnected"));
    } else if (act.disconnect && !r.whitelisted && r.level !== "normal") {
      rowActions.append(button("Disconnect", "action-disconnect", act.disconnect, "danger"));
    }
    if (act.whitelist && !r.whitelisted && r.level !== "normal") {
      rowActions.append(button("Whitelist", "row-whitelist", act.whitelist));
    }
    rowActions.append(button("Open", "row-open", act.open, "link"));
    return h(
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
      h("div", { class: "td col-subscriber", title: r.subscriber }, r.subscriber),
      // The demo's routers (demo-…) in the demo's colour, so its rows never
      // pass for the owner's own when both are in the table.
      r.nas.startsWith("demo-")
        ? h("div", { class: "td col-nas demo-router", title: `${r.nas}: a simulated router of the demo` }, r.nas)
        : h("div", { class: "td col-nas", title: r.nas }, r.nas),
      h("div", { class: "td col-tag muted", title: r.tag ?? "" }, r.tag ?? ""),
      h("div", { class: "td col-connections" }, thousands(r.connections)),
      h("div", { class: "td col-ttl", title: r.ttl_values.join(", ") }, r.ttl_values.join(", ") || "–"),
      h("div", { class: "td col-ttl_status", title: ttlStatusWords(r.ttl_status) }, ttlStatusWords(r.ttl_status)),
      h("div", { class: "td col-level" }, h("span", { class: `badge ${r.level}` }, r.whitelisted ? "whitelisted" : r.level)),
      h("div", { class: "td col-reasons muted", title: r.reasons.join("\n") }, r.reasons[0] ?? ""),
      rowActions,
    );
  }
}
