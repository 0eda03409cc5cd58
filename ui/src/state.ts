// What the screens share: the backend status, the chosen tag, and the event
// subscriptions of the screen on show.
import type { UnlistenFn } from "@tauri-apps/api/event";
import { api, type Status } from "./api";

type Listener = () => void;

export const state = {
  status: null as Status | null,
  /** The tag the screens are narrowed to ("" for all). */
  tagFilter: "",
  error: "" as string,
  listeners: new Set<Listener>(),
  /** Backend event subscriptions of the screen on show, ended when it goes. */
  subscriptions: [] as Promise<UnlistenFn>[],

  async refresh(): Promise<void> {
    this.status = await api.status();
    this.changed();
  },

  may(p: string): boolean {
    return Boolean(this.status?.operator?.permissions.includes(p as never));
  },

  changed(): void {
    for (const l of this.listeners) l();
  },

  /** Keeps a backend event subscription for as long as the current screen shows. */
  onScreen(subscription: Promise<UnlistenFn>): void {
    this.subscriptions.push(subscription);
  },

  /** Ends the screen's subscriptions and change listeners, before another screen is built. */
  leaveScreen(): void {
    for (const s of this.subscriptions) void s.then((unlisten) => unlisten());
    this.subscriptions = [];
    this.listeners.clear();
  },
};
