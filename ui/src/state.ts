// What the screens share: the backend status and the latest results.
import { api, type Status, type ResultRow } from "./api";

type Listener = () => void;

export const state = {
  status: null as Status | null,
  results: [] as ResultRow[],
  /** The tag the screens are narrowed to ("" for all). */
  tagFilter: "",
  error: "" as string,
  listeners: new Set<Listener>(),

  async refresh(): Promise<void> {
    this.status = await api.status();
    if (this.status.operator) {
      this.results = (await api.results()).rows;
    } else {
      this.results = [];
    }
    this.changed();
  },

  /** The tag of a result: the subscriber's own, else its router's. */
  tagOf(r: ResultRow): string {
    return r.tag ?? this.status?.routers.find((x) => x.name === r.nas)?.tag ?? "";
  },

  /** Results narrowed to the chosen tag. */
  tagged(): ResultRow[] {
    return this.tagFilter ? this.results.filter((r) => this.tagOf(r) === this.tagFilter) : this.results;
  },

  may(p: string): boolean {
    return Boolean(this.status?.operator?.permissions.includes(p as never));
  },

  changed(): void {
    for (const l of this.listeners) l();
  },
};
