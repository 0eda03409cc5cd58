// What the screens share: the backend status and the latest results.
import { api, type Status, type SubscriberResult } from "./api";

type Listener = () => void;

export const state = {
  status: null as Status | null,
  results: [] as SubscriberResult[],
  /** Effective reseller/area tag per subscriber. */
  tags: {} as Record<string, string>,
  /** The tag the screens are narrowed to ("" for all). */
  tagFilter: "",
  error: "" as string,
  listeners: new Set<Listener>(),

  async refresh(): Promise<void> {
    this.status = await api.status();
    if (this.status.operator) {
      const r = await api.results();
      this.results = r.rows;
      this.tags = r.tags;
    } else {
      this.results = [];
      this.tags = {};
    }
    this.changed();
  },

  /** The tag of a result: the subscriber's own, else its router's. */
  tagOf(r: SubscriberResult): string {
    return this.tags[r.subscriber] ?? this.status?.routers.find((x) => x.name === r.nas)?.tag ?? "";
  },

  /** Results narrowed to the chosen tag. */
  tagged(): SubscriberResult[] {
    return this.tagFilter ? this.results.filter((r) => this.tagOf(r) === this.tagFilter) : this.results;
  },

  may(p: string): boolean {
    return Boolean(this.status?.operator?.permissions.includes(p as never));
  },

  changed(): void {
    for (const l of this.listeners) l();
  },
};
