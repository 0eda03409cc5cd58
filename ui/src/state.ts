// What the screens share: the backend status and the latest results.
import { api, type Status, type SubscriberResult } from "./api";

type Listener = () => void;

export const state = {
  status: null as Status | null,
  results: [] as SubscriberResult[],
  error: "" as string,
  listeners: new Set<Listener>(),

  async refresh(): Promise<void> {
    this.status = await api.status();
    this.results = await api.results();
    this.changed();
  },

  changed(): void {
    for (const l of this.listeners) l();
  },
};
