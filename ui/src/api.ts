// Typed access to the backend. The types and the command wrappers are
// generated from the Rust types into `bindings.ts` (a CI test fails when it
// is stale), so a renamed field or command fails `npm run build` instead of
// the window. This module gives them the names the screens use and shapes a
// few calls. Every command returns its value or throws a CommandError whose
// message is meant to be shown to the owner as it is.
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import {
  commands,
  type AutoActionEvent,
  type CommandError,
  type CycleSummary,
  type Level,
  type Permission,
  type PenaltyInput,
  type ReportAsk,
  type ResultFilter,
  type ResultLine,
  type RouterResults,
  type ScanProgress,
  type ScanSummary,
  type Theme,
  type WebhookConfig,
} from "./bindings";

export type {
  MonitorCharts,
  AbuseKind,
  MonitorOverview,
  MonitorSettings,
  AuditRecord,
  CommandError,
  CycleSummary,
  DashboardCharts,
  Level,
  PenaltyReport,
  Permission,
  ProbeReport,
  ReportAsk,
  ResultOrder,
  RouterInput,
  RouterResults,
  SettingsView,
  Status,
  SubscriberDetail,
  Theme,
} from "./bindings";

/** One line of the results table (details load when a row is opened). */
export type ResultRow = ResultLine;
/** Which page of which listing of the latest results to read. */
export type ResultsQuery = ResultFilter;
/** One router's progress through a running scan. */
export type ProgressEvent = ScanProgress;
export type { Warning as AbuseWarning, Action as ActionRecord, StoredRouter as RouterRecord } from "./bindings";

export const LEVELS: Level[] = ["normal", "low", "medium", "high", "critical"];

export const PERMISSIONS: { key: Permission; label: string }[] = [
  { key: "view", label: "View results" },
  { key: "scan", label: "Scan" },
  { key: "edit", label: "Edit settings and routers" },
  { key: "whitelist", label: "Whitelist" },
  { key: "act", label: "Act on subscribers" },
];

/** The owner-facing text of any error a command returned. */
export function errorText(e: unknown): string {
  if (e && typeof e === "object" && "message" in e) {
    return String((e as CommandError).message);
  }
  return String(e);
}

export const api = {
  status: () => commands.status(),
  startDemo: () => commands.startDemo(),
  removeDemo: () => commands.removeDemo(),
  scan: (scope: { router?: string; subscriber?: string } = {}) =>
    commands.scan(scope.router ?? null, scope.subscriber ?? null),
  cancelScan: () => commands.cancelScan(),
  resultsPage: (query: ResultsQuery) => commands.resultsPage(query),
  /** One subscriber's line of the results table, if a scan has seen them. */
  resultRow: (subscriber: string) =>
    commands.resultsPage({ subscriber, limit: 1 }).then((p) => p.rows[0] ?? null),
  disconnect: (subscriber: string, reason: string | null) => commands.disconnectSubscriber(subscriber, reason),
  resetBreaker: () => commands.resetBreaker(),
  monitorOverview: (hours = 24) => commands.monitorOverview(hours),
  saveMonitorSettings: (settings: Parameters<typeof commands.saveMonitorSettings>[0]) =>
    commands.saveMonitorSettings(settings),
  runMonitor: () => commands.runMonitor(),
  throttle: (input: PenaltyInput) => commands.throttleSubscriber(input),
  ban: (input: PenaltyInput) => commands.banSubscriber(input),
  limit: (input: PenaltyInput) => commands.limitSubscriber(input),
  liftAction: (id: number) => commands.liftAction(id),
  clearResults: () => commands.clearResults(),
  setSubscriberTag: (subscriber: string, tag: string | null) => commands.setSubscriberTag(subscriber, tag),
  dashboardCharts: (tag: string | null, theme: Theme) => commands.dashboardCharts(tag, theme),
  monitorCharts: (days: number, theme: Theme) => commands.monitorCharts(days, theme),
  subscriberCharts: (subscriber: string, theme: Theme) => commands.subscriberCharts(subscriber, theme),
  listOperators: () => commands.listOperators(),
  saveOperator: (name: string, pin: string | null, permissions: Permission[]) =>
    commands.saveOperator({ name, pin, permissions }),
  removeOperator: (name: string) => commands.removeOperator(name),
  switchOperator: (name: string, pin: string) => commands.switchOperator(name, pin),
  lockApp: () => commands.lockApp(),
  saveReport: (ask: ReportAsk, format: "pdf" | "csv") => commands.saveReport(ask, format),
  webhookSettings: () => commands.webhookSettings(),
  saveWebhooks: (config: WebhookConfig, telegramToken: string | null) => commands.saveWebhooks(config, telegramToken),
  testWebhooks: () => commands.testWebhooks(),
  p2pRules: (name: string, action: "show" | "install" | "remove") =>
    commands.p2pRules(name, action === "show" ? null : action),
  probes: (name: string, remove: boolean, apply: boolean) => commands.probes(name, remove, apply),
  fetchFingerprint: (host: string, port: number) => commands.fetchFingerprint(host, port),
  whitelistAdd: (subscriber: string, reason: string) => commands.whitelistAdd(subscriber, reason),
  whitelistRemove: (subscriber: string) => commands.whitelistRemove(subscriber),
  setLineDistance: (subscriber: string, hops: number | null, note: string) =>
    commands.setLineDistance(subscriber, hops, note),
  whitelistList: (includeExpired: boolean) => commands.whitelistList(includeExpired),
  auditLog: (limit: number, filter: { operator?: string; action?: string; subject?: string } = {}) =>
    commands.auditLog(limit, filter.operator ?? null, filter.action ?? null, filter.subject ?? null),
  getSettings: () => commands.getSettings(),
  saveSettings: (settings: Parameters<typeof commands.saveSettings>[0]) => commands.saveSettings(settings),
  pickFolder: () => commands.pickFolder(),
  previewSchedule: (cron: string) => commands.previewSchedule(cron),
  subscriberDetail: (subscriber: string) => commands.subscriberDetail(subscriber),
  keyringStatus: () => commands.keyringStatus(),
  listRouters: () => commands.listRouters(),
  saveRouter: (input: Parameters<typeof commands.saveRouter>[0]) => commands.saveRouter(input),
  removeRouter: (name: string) => commands.removeRouter(name),
  testRouter: (name: string) => commands.testRouter(name),
};

/** Every event the backend emits, with the payload type it carries. */
export const events = {
  progress: (f: (e: ScanProgress) => void): Promise<UnlistenFn> =>
    listen<ScanProgress>("scan-progress", (e) => f(e.payload)),
  results: (f: (r: RouterResults) => void): Promise<UnlistenFn> =>
    listen<RouterResults>("scan-results", (e) => f(e.payload)),
  autoActions: (f: (a: AutoActionEvent) => void): Promise<UnlistenFn> =>
    listen<AutoActionEvent>("auto-actions", (e) => f(e.payload)),
  monitorCycle: (f: (c: CycleSummary) => void): Promise<UnlistenFn> =>
    listen<CycleSummary>("monitor-cycle", (e) => f(e.payload)),
  finished: (f: (s: ScanSummary) => void): Promise<UnlistenFn> =>
    listen<ScanSummary>("scan-finished", (e) => f(e.payload)),
  /** A scan that ran but could not be stored; the payload says why. */
  failed: (f: (message: string) => void): Promise<UnlistenFn> =>
    listen<string>("scan-failed", (e) => f(e.payload)),
};
