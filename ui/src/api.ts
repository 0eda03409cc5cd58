// Typed access to the backend. Every command returns either its value or a
// CommandError whose message is meant to be shown to the owner as it is.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export type Level = "normal" | "low" | "medium" | "high" | "critical";
export const LEVELS: Level[] = ["normal", "low", "medium", "high", "critical"];

export interface Evidence {
  status: "sufficient" | "insufficient" | "no_probes";
  observations: number;
  share: number | null;
  probe_age_secs: number | null;
}

export interface SubscriberResult {
  subscriber: string;
  nas: string;
  address: string;
  access: "pppoe" | "hotspot";
  connections: number;
  p2p_connections: number;
  ttl_values: number[];
  ttl_counts: Record<string, number>;
  ttl_status: string;
  level: Level;
  assessed_level: Level;
  whitelisted: boolean;
  reasons: string[];
  recommended_action: string;
  evidence: Evidence;
  scanned_at: string;
}

export interface NasOutcome {
  nas: string;
  address: string;
  status: "ok" | "failed" | "timed_out" | "cancelled";
  error: string | null;
  error_kind: string | null;
  sessions: number;
  connections: number;
  checked: number;
  flagged: number;
  duration_ms: number;
  probe_strategy: string | null;
  warnings: string[];
}

export interface ScanSummary {
  id: number | null;
  started_at: string;
  finished_at: string | null;
  operator: string;
  status: string;
  checked: number;
  flagged: number;
  nas: NasOutcome[];
}

export interface RouterInfo {
  name: string;
  address: string;
  access: string;
  demo: boolean;
}

export interface Status {
  demo_running: boolean;
  routers: RouterInfo[];
  last_scan: ScanSummary | null;
  result_count: number;
  scanning: boolean;
  database: string;
}

export interface AuditRecord {
  id: number;
  at: string;
  operator: string;
  action: string;
  subject: string | null;
  details: unknown;
}

export interface RouterRecord {
  id: number | null;
  name: string;
  host: string;
  port: number;
  tls: boolean;
  tls_fingerprint: string | null;
  username: string;
  access: "pppoe" | "hotspot";
  expected_hops: number;
  tag: string | null;
  has_password: boolean;
}

export interface RouterInput {
  name: string;
  host: string;
  port: number;
  username: string;
  password: string | null;
  tls: boolean;
  tls_fingerprint: string | null;
  access: "pppoe" | "hotspot";
  expected_hops: number | null;
  tag: string | null;
}

export interface ConnectionCheck {
  version: string;
  board: string;
  identity: string;
  probes_installed: number;
  warnings: string[];
}

export interface DetectionSettings {
  connections_low: number;
  connections_medium: number;
  connections_high: number;
  ttl_threshold: number;
  min_ttl_observations: number;
  rewrite_min_connections: number;
  count_p2p_connections: boolean;
}

export interface ScheduleSettings {
  automatic: boolean;
  cron: string;
}

export interface SettingsView {
  detection: DetectionSettings;
  schedule: ScheduleSettings;
  next_runs: string[];
  paused: boolean;
}

export interface HistoryEntry {
  scan_id: number;
  subscriber: string;
  nas: string;
  scanned_at: string;
  level: Level;
  ttl_status: string;
  whitelisted: boolean;
  connections: number;
  p2p_connections: number;
  ttl_values: number[];
  reasons: string[];
}

export interface SubscriberDetail {
  result: SubscriberResult | null;
  history: HistoryEntry[];
  ttl_histogram: Record<string, number>;
  whitelist: { subscriber: string; reason: string; added_by: string; added_at: string; expires_at: string | null } | null;
  audit: AuditRecord[];
}

export interface WhitelistEntry {
  subscriber: string;
  reason: string;
  added_by: string;
  added_at: string;
  expires_at: string | null;
}

export interface CommandError {
  kind: string;
  message: string;
}

/** The owner-facing text of any error a command returned. */
export function errorText(e: unknown): string {
  if (e && typeof e === "object" && "message" in e) {
    return String((e as CommandError).message);
  }
  return String(e);
}

export const api = {
  status: () => invoke<Status>("status"),
  startDemo: () => invoke<Status>("start_demo"),
  scanAll: () => invoke<void>("scan_all"),
  cancelScan: () => invoke<void>("cancel_scan"),
  results: () => invoke<SubscriberResult[]>("results"),
  whitelistAdd: (subscriber: string, reason: string) =>
    invoke<void>("whitelist_add", { subscriber, reason }),
  whitelistRemove: (subscriber: string) => invoke<void>("whitelist_remove", { subscriber }),
  whitelistList: (includeExpired: boolean) =>
    invoke<WhitelistEntry[]>("whitelist_list", { includeExpired }),
  auditLog: (limit: number, filter: { operator?: string; action?: string; subject?: string } = {}) =>
    invoke<AuditRecord[]>("audit_log", { limit, ...filter }),
  getSettings: () => invoke<SettingsView>("get_settings"),
  saveSettings: (detection: DetectionSettings, schedule: ScheduleSettings) =>
    invoke<void>("save_settings", { settings: { detection, schedule } }),
  previewSchedule: (cron: string) =>
    invoke<{ description: string; next_runs: string[] }>("preview_schedule", { cron }),
  subscriberDetail: (subscriber: string) => invoke<SubscriberDetail>("subscriber_detail", { subscriber }),
  keyringStatus: () => invoke<string | null>("keyring_status"),
  listRouters: () => invoke<RouterRecord[]>("list_routers"),
  saveRouter: (input: RouterInput) => invoke<void>("save_router", { input }),
  removeRouter: (name: string) => invoke<void>("remove_router", { name }),
  testRouter: (name: string) => invoke<ConnectionCheck>("test_router", { name }),
};

export interface ProgressEvent {
  nas: string;
  stage: "started" | "reading" | "finished";
  rows: number;
  outcome: NasOutcome | null;
}

export const events = {
  progress: (f: (e: ProgressEvent) => void): Promise<UnlistenFn> =>
    listen<ProgressEvent>("scan-progress", (e) => f(e.payload)),
  results: (f: (r: SubscriberResult[]) => void): Promise<UnlistenFn> =>
    listen<SubscriberResult[]>("scan-results", (e) => f(e.payload)),
  finished: (f: (s: ScanSummary) => void): Promise<UnlistenFn> =>
    listen<ScanSummary>("scan-finished", (e) => f(e.payload)),
};
