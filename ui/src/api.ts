// Typed access to the backend. Every command returns either its value or a
// CommandError whose message is meant to be shown to the owner as it is.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export type Level = "normal" | "low" | "medium" | "high" | "critical";
export const LEVELS: Level[] = ["normal", "low", "medium", "high", "critical"];

/** The distance a verdict read the TTLs against, and where it came from. */
export interface LineDistance {
  hops: number;
  source: "router" | "owner" | "caller_id" | "history";
  why: string;
}

export interface Evidence {
  status: "sufficient" | "insufficient" | "no_probes";
  observations: number;
  share: number | null;
  probe_age_secs: number | null;
  /** Scans the verdict rests on (this one and earlier ones of the line). */
  scans: number;
  past_observations: number;
  distance: LineDistance | null;
  /** Connections recognised as the subscriber's router's own, kept out. */
  router_own: number;
}

/** A distance the owner set for one line. */
export interface LineDistanceEntry {
  subscriber: string;
  hops: number;
  note: string;
  set_by: string;
  set_at: string;
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

/** One line of the results table (details load when a row is opened). */
export interface ResultRow {
  subscriber: string;
  nas: string;
  address: string;
  connections: number;
  p2p_connections: number;
  ttl_values: number[];
  ttl_status: string;
  level: Level;
  whitelisted: boolean;
  reasons: string[];
  /** The subscriber's own tag, else the router's (absent: untagged or not yet known). */
  tag?: string;
  /** When ShareGuard ended the session, until a scan sees them again. */
  disconnected_at?: string;
}

/** What the results table can be sorted by. */
export type ResultOrder = "level" | "subscriber" | "nas" | "tag" | "connections" | "ttl" | "ttl_status" | "reasons";

/** Which page of which listing of the latest results to read. */
export interface ResultsQuery {
  search?: string | null;
  min_level?: Level | null;
  tag?: string | null;
  /** One subscriber, by exact login name. */
  subscriber?: string;
  order?: ResultOrder;
  ascending?: boolean;
  offset?: number;
  /** 1 to 500. */
  limit: number;
}

export interface ResultsPage {
  rows: ResultRow[];
  offset: number;
  /** Results matching the query, over all its pages. */
  matched: number;
  /** Every stored result. */
  total: number;
}

/** One router's part of a running scan, as soon as that router is done. */
export interface RouterResults {
  nas: string;
  checked: number;
  flagged: number;
  /** The first flagged subscribers, most suspicious first. */
  flagged_rows: ResultRow[];
}

export interface DisconnectReport {
  subscriber: string;
  nas: string;
  method: "radius" | "api";
  session: { item: string; user: string; address: string | null; session_id: string | null; radius: boolean };
  radius_tries: number | null;
  elapsed_ms: number;
  note: string | null;
  dry_run: boolean;
}

export interface SharingActions {
  auto_disconnect: boolean;
  min_level: Level;
  dry_run: boolean;
}

export interface Breaker {
  max_subscribers: number;
  max_percent: number;
  tripped: { at: string; candidates: number; cap: number } | null;
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
  expected_rows?: number;
  rows_per_second?: number;
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
  tag: string | null;
  demo: boolean;
}

export type Permission = "view" | "scan" | "edit" | "whitelist" | "act";
export const PERMISSIONS: { key: Permission; label: string }[] = [
  { key: "view", label: "View results" },
  { key: "scan", label: "Scan" },
  { key: "edit", label: "Edit settings and routers" },
  { key: "whitelist", label: "Whitelist" },
  { key: "act", label: "Act on subscribers" },
];

export interface Operator {
  name: string;
  permissions: Permission[];
  created_at: string;
  updated_at: string;
}

export interface DemoRemoved {
  results: number;
  scans: number;
  warnings: number;
  actions: number;
}

export interface Status {
  demo_running: boolean;
  routers: RouterInfo[];
  last_scan: ScanSummary | null;
  result_count: number;
  /** Of result_count, the demo routers' results (running or left from an earlier start). */
  demo_results: number;
  scanning: boolean;
  database: string;
  operator: Operator | null;
  profiles: string[];
  tags: string[];
  next_scan: string | null;
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
  radius_port: number | null;
  has_password: boolean;
  has_radius_secret: boolean;
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
  radius_port: number | null;
  radius_secret: string | null;
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
  concurrent_sessions_level: Level;
}

export interface ScheduleSettings {
  automatic: boolean;
  cron: string;
}

export interface DesktopSettings {
  close_to_tray: boolean;
  notify_on_flag: boolean;
  notify_min_level: Level;
  start_at_login: boolean;
}

export interface Settings {
  detection: DetectionSettings;
  schedule: ScheduleSettings;
  desktop: DesktopSettings;
  retention: { days: number };
  actions: SharingActions;
  breaker: Breaker;
  reports: ScheduledReports;
}

/** Reports written after each scheduled scan. */
export interface ScheduledReports {
  enabled: boolean;
  folder: string;
  pdf: boolean;
  csv: boolean;
}

/** The window's colour scheme; charts are drawn to match it. */
export type Theme = "light" | "dark";

/** Charts as SVG documents, drawn by the backend in the window's theme. */
export interface DashboardCharts {
  scanned: boolean;
  /** Subscribers in view per level, in LEVELS order. */
  levels: number[];
  ttl: string;
  ttl_by_router: { router: string; svg: string }[];
  connections: string;
  trend: string;
}

export interface AbuseCharts {
  days: number;
  timeline: string;
  offenders: string;
}

export interface SubscriberCharts {
  ttl: string;
  connections: string;
}

export interface ProbeReport {
  state: {
    rules: { id: string; ttl: number; strategy: string; interface: string; disabled: boolean; installed_at: string | null }[];
    fasttrack_rules: number;
    foreign_connection_marks: number;
  };
  plan: { strategy: string | null; interfaces: string[]; notes: string[]; commands: string[] };
  warnings: string[];
  applied: boolean;
}

export interface SettingsView extends Settings {
  next_runs: string[];
  paused: boolean;
  /** How long a router may take in a scan, in words. */
  time_limits: string;
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
  whitelist: { subscriber: string; reason: string; added_by: string; added_at: string; expires_at: string | null } | null;
  distance: LineDistanceEntry | null;
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
  /** With kind "rule_missing": the router commands that would install what is missing. */
  rules?: string[];
}

/** The owner-facing text of any error a command returned. */
export function errorText(e: unknown): string {
  if (e && typeof e === "object" && "message" in e) {
    return String((e as CommandError).message);
  }
  return String(e);
}

export type AbuseKind = "connection_flood" | "connection_rate" | "p2p" | "bandwidth_hog" | "tethering";
export type Severity = "warning" | "throttle" | "ban";

export interface AbuseThresholds {
  flood_warning: number;
  flood_throttle: number;
  flood_ban: number;
  rate_warning: number;
  rate_throttle: number;
  p2p_min_connections: number;
  p2p_severity: Severity;
  hog_percent: number;
  hog_window_min: number;
  hog_severity: Severity;
  tethering: boolean;
  tethering_severity: Severity;
}

export interface AbuseSettings {
  enabled: boolean;
  interval_s: number;
  thresholds: AbuseThresholds;
  escalation: { violations_to_escalate: number; lookback_hours: number; durations_min: number[] };
  auto_actions: boolean;
  dry_run: boolean;
  throttle_percent: number;
  warning_open_min: number;
  limits: LimitSettings;
}

export type ReportAsk =
  | { kind: "scan"; tag: string | null }
  | { kind: "abuse"; days: number }
  | { kind: "subscriber"; name: string }
  | { kind: "audit" };

export interface ReportOutcome {
  path: string | null;
  bytes: number;
  rows: number;
  pages: number | null;
  notice: string | null;
}

export interface WebhookConfig {
  generic: { url: string } | null;
  telegram: { chat_id: string; api_base?: string } | null;
}

export interface LimitSettings {
  pppoe_normal: number;
  pppoe_suspicious: number;
  hotspot_normal: number;
  hotspot_suspicious: number;
  minutes: number;
  enforce_hotspot_sessions: boolean;
}

export interface AbuseWarning {
  id: number;
  subscriber: string;
  nas: string;
  kind: AbuseKind;
  severity: Severity;
  measured: number;
  threshold: number;
  details: string;
  action: string;
  action_note: string | null;
  first_seen: string;
  last_seen: string;
  expires_at: string;
  cycles: number;
}

export interface ActionRecord {
  id: number;
  subscriber: string;
  nas: string;
  kind: "disconnect" | "throttle" | "ban" | "limit";
  method: "radius" | "api";
  operator: string;
  reason: string;
  details: Record<string, unknown>;
  started_at: string;
  expires_at: string | null;
}

export interface AbuseMetrics {
  warnings_by_kind: [AbuseKind, number][];
  warnings: number;
  throttled: number;
  banned: number;
  disconnected: number;
  top_offenders: { subscriber: string; nas: string; warnings: number; worst: Severity }[];
  avg_connections_per_subscriber: number | null;
  p2p_percent: number | null;
  cycles: number;
}

export interface CycleSummary {
  at: string;
  routers: number;
  failed_routers: string[];
  subscribers: number;
  warnings: number;
  opened: number;
  acted: number;
  lifted: number;
  tripped: boolean;
  elapsed_ms: number;
}

export interface AbuseOverview {
  settings: AbuseSettings;
  breaker: Breaker;
  metrics: AbuseMetrics;
  warnings: AbuseWarning[];
  in_force: ActionRecord[];
  last_cycle: CycleSummary | null;
  ban_rule: string;
}

export interface PenaltyInput {
  subscriber: string;
  minutes?: number;
  reason?: string | null;
  install_rule?: boolean;
}

export type PenaltyReport =
  | { kind: "throttle"; report: { subscriber: string; rate: string; plan: string; method: string; note: string | null }; expires_at: string }
  | { kind: "ban"; report: { subscriber: string; address: string; minutes: number }; expires_at: string }
  | {
      kind: "limit";
      report: { subscriber: string; address: string; minutes: number; cap: number; unit: string; ended_sessions: string[] };
      expires_at: string;
    };

export const api = {
  status: () => invoke<Status>("status"),
  startDemo: () => invoke<void>("start_demo"),
  removeDemo: () => invoke<DemoRemoved>("remove_demo"),
  scan: (scope: { router?: string; subscriber?: string } = {}) => invoke<void>("scan", scope),
  cancelScan: () => invoke<void>("cancel_scan"),
  resultsPage: (query: ResultsQuery) => invoke<ResultsPage>("results_page", { query }),
  /** One subscriber's line of the results table, if a scan has seen them. */
  resultRow: (subscriber: string) =>
    invoke<ResultsPage>("results_page", { query: { subscriber, limit: 1 } }).then((p) => p.rows[0] ?? null),
  disconnect: (subscriber: string, reason: string | null) =>
    invoke<DisconnectReport>("disconnect_subscriber", { subscriber, reason }),
  resetBreaker: () => invoke<boolean>("reset_breaker"),
  abuseOverview: (hours = 24) => invoke<AbuseOverview>("abuse_overview", { hours }),
  saveAbuseSettings: (settings: AbuseSettings) => invoke<void>("save_abuse_settings", { settings }),
  runMonitor: () => invoke<CycleSummary | null>("run_monitor"),
  throttle: (input: PenaltyInput) => invoke<PenaltyReport>("throttle_subscriber", { input }),
  ban: (input: PenaltyInput) => invoke<PenaltyReport>("ban_subscriber", { input }),
  limit: (input: PenaltyInput) => invoke<PenaltyReport>("limit_subscriber", { input }),
  liftAction: (id: number) => invoke<{ note: string }>("lift_action", { id }),
  clearResults: () => invoke<number>("clear_results"),
  setSubscriberTag: (subscriber: string, tag: string | null) =>
    invoke<void>("set_subscriber_tag", { subscriber, tag }),
  dashboardCharts: (tag: string | null, theme: Theme) => invoke<DashboardCharts>("dashboard_charts", { tag, theme }),
  abuseCharts: (days: number, theme: Theme) => invoke<AbuseCharts>("abuse_charts", { days, theme }),
  subscriberCharts: (subscriber: string, theme: Theme) => invoke<SubscriberCharts>("subscriber_charts", { subscriber, theme }),
  listOperators: () => invoke<Operator[]>("list_operators"),
  saveOperator: (name: string, pin: string | null, permissions: Permission[]) =>
    invoke<void>("save_operator", { input: { name, pin, permissions } }),
  removeOperator: (name: string) => invoke<void>("remove_operator", { name }),
  switchOperator: (name: string, pin: string) => invoke<Operator>("switch_operator", { name, pin }),
  lockApp: () => invoke<void>("lock_app"),
  saveReport: (ask: ReportAsk, format: "pdf" | "csv") => invoke<ReportOutcome | null>("save_report", { ask, format }),
  webhookSettings: () =>
    invoke<{ config: WebhookConfig; has_telegram_token: boolean; keyring: string | null }>("webhook_settings"),
  saveWebhooks: (config: WebhookConfig, telegramToken: string | null) =>
    invoke<void>("save_webhooks", { config, telegramToken }),
  testWebhooks: () => invoke<{ target: string; ok: boolean; attempts: number | null; message: string }[]>("test_webhooks"),
  p2pRules: (name: string, action: "show" | "install" | "remove") =>
    invoke<{ installed: boolean; commands: string[]; applied: boolean }>("p2p_rules", { name, action }),
  probes: (name: string, remove: boolean, apply: boolean) =>
    invoke<ProbeReport>("probes", { name, remove, apply }),
  fetchFingerprint: (host: string, port: number) => invoke<string>("fetch_fingerprint", { host, port }),
  whitelistAdd: (subscriber: string, reason: string) =>
    invoke<void>("whitelist_add", { subscriber, reason }),
  whitelistRemove: (subscriber: string) => invoke<void>("whitelist_remove", { subscriber }),
  setLineDistance: (subscriber: string, hops: number | null, note: string) =>
    invoke<void>("set_line_distance", { subscriber, hops, note }),
  whitelistList: (includeExpired: boolean) =>
    invoke<WhitelistEntry[]>("whitelist_list", { includeExpired }),
  auditLog: (limit: number, filter: { operator?: string; action?: string; subject?: string } = {}) =>
    invoke<AuditRecord[]>("audit_log", { limit, ...filter }),
  getSettings: () => invoke<SettingsView>("get_settings"),
  saveSettings: (settings: Settings) => invoke<void>("save_settings", { settings }),
  pickFolder: () => invoke<string | null>("pick_folder"),
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
  /** Rows the router said it holds, while reading. */
  expected: number | null;
  outcome: NasOutcome | null;
}

export const events = {
  progress: (f: (e: ProgressEvent) => void): Promise<UnlistenFn> =>
    listen<ProgressEvent>("scan-progress", (e) => f(e.payload)),
  results: (f: (r: RouterResults) => void): Promise<UnlistenFn> =>
    listen<RouterResults>("scan-results", (e) => f(e.payload)),
  autoActions: (f: (a: { disconnected: string[]; failed: number; dry_run: boolean; tripped: boolean }) => void): Promise<UnlistenFn> =>
    listen<{ disconnected: string[]; failed: number; dry_run: boolean; tripped: boolean }>("auto-actions", (e) => f(e.payload)),
  abuseCycle: (f: (c: CycleSummary) => void): Promise<UnlistenFn> =>
    listen<CycleSummary>("abuse-cycle", (e) => f(e.payload)),
  finished: (f: (s: ScanSummary) => void): Promise<UnlistenFn> =>
    listen<ScanSummary>("scan-finished", (e) => f(e.payload)),
  /** A scan that ran but could not be stored; the payload says why. */
  failed: (f: (message: string) => void): Promise<UnlistenFn> =>
    listen<string>("scan-failed", (e) => f(e.payload)),
};
