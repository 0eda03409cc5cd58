// The abuse monitor: live warnings with their actions, what is in force and
// for how long, the breaker, the last 24 hours in figures, and the settings.
import { h, clear, count, when, whenFull, thousands } from "../dom";
import {
  api,
  errorText,
  events,
  type AbuseKind,
  type MonitorOverview,
  type MonitorSettings,
  type AbuseWarning,
  type ActionRecord,
} from "../api";
import { navigate } from "../nav";
import { state } from "../state";
import { penalize, penaltySummary, type PenaltyKind } from "./penalty";
import { notificationsPanel } from "./notifications";
import { exportButtons } from "./export";
import { warningActionWords } from "../words";
import { onThemeChange, svgChart, theme } from "./charts";

const KIND_LABEL: Record<AbuseKind, string> = {
  connection_flood: "Connection flood",
  connection_rate: "New-connection burst",
  p2p: "Peer-to-peer",
  bandwidth_hog: "Bandwidth hogging",
  tethering: "Tethering",
};

/** "12 min left", "1 h 40 min left", "expired". */
function timeLeft(iso: string | null): string {
  if (!iso) return "";
  const ms = new Date(iso).getTime() - Date.now();
  if (ms <= 0) return "ending";
  const min = Math.ceil(ms / 60000);
  return min < 60 ? `${min} min left` : `${Math.floor(min / 60)} h ${min % 60} min left`;
}

export function abuseView(showError: (m: string) => void): HTMLElement {
  const message = h("p", { class: "notice", "data-testid": "abuse-message", hidden: true });
  const status = h("p", { class: "muted", "data-testid": "abuse-status" }, "Loading…");
  const cards = h("div", { class: "cards" });
  const kinds = h("div", { class: "bars", "data-testid": "abuse-kind-chart" });
  const breaker = h("div", { class: "card wide", "data-testid": "abuse-breaker" });
  const inForce = h("tbody");
  const body = h("tbody");
  const kindFilter = h(
    "select",
    { "aria-label": "Kind", "data-testid": "abuse-kind" },
    h("option", { value: "" }, "All kinds"),
    ...Object.entries(KIND_LABEL).map(([k, l]) => h("option", { value: k }, l)),
  ) as HTMLSelectElement;
  const search = h("input", { type: "search", placeholder: "Subscriber", "aria-label": "Subscriber", "data-testid": "abuse-search" }) as HTMLInputElement;
  const settingsBox = h("details", { class: "panel", "data-testid": "abuse-settings" });
  let overview: MonitorOverview | null = null;

  const say = (text: string) => {
    message.textContent = text;
    message.hidden = false;
  };

  const act = async (w: AbuseWarning, kind: PenaltyKind) => {
    try {
      const minutes = kind === "limit" ? undefined : (overview?.settings.escalation.durations_min[0] ?? 30);
      const r = await penalize(kind, w.subscriber, w.nas, { reason: `${KIND_LABEL[w.kind]}: ${w.details}`, minutes });
      if (!r) return;
      say(penaltySummary(r));
      load();
    } catch (e) {
      showError(errorText(e));
    }
  };

  const lift = async (a: ActionRecord) => {
    // Actions read from the store always carry their id.
    if (a.id == null || !window.confirm(`Lift the ${a.kind} of ${a.subscriber} now?`)) return;
    try {
      const l = await api.liftAction(a.id);
      say(`${a.subscriber}: ${a.kind} lifted (${l.note}).`);
      load();
    } catch (e) {
      showError(errorText(e));
    }
  };

  // What the monitor did about a warning, in words ("" when nothing).
  const taken = (w: AbuseWarning) => warningActionWords(w.action, w.action_note);
  const rows = () => {
    if (!overview) return;
    const kind = kindFilter.value;
    const q = search.value.trim().toLowerCase();
    const list = overview.warnings.filter((w) => (!kind || w.kind === kind) && (!q || w.subscriber.toLowerCase().includes(q)));
    clear(body).append(
      ...list.map((w) =>
        h(
          "tr",
          { "data-testid": "warning-row", "data-subscriber": w.subscriber, "data-kind": w.kind, "data-severity": w.severity },
          h("td", { class: "nowrap", title: whenFull(w.last_seen) }, when(w.last_seen)),
          h("td", { class: "nowrap" }, h("button", { class: "link", onclick: () => navigate("subscriber", w.subscriber) }, w.subscriber)),
          h("td", { class: "nowrap" }, w.nas),
          h("td", {}, KIND_LABEL[w.kind]),
          h("td", {}, h("span", { class: `badge sev-${w.severity}` }, w.severity)),
          h(
            "td",
            { class: "small" },
            w.details,
            w.cycles > 1 ? h("span", { class: "muted" }, ` · seen ${w.cycles}×`) : null,
            taken(w) ? h("div", { class: "muted", "data-testid": "warning-action" }, taken(w)) : null,
          ),
          h(
            "td",
            { class: "row-actions" },
            h("button", { class: "small", "data-testid": "action-throttle", title: "Lower the rate for a while", onclick: () => act(w, "throttle") }, "Throttle"),
            h("button", { class: "small", "data-testid": "action-limit", title: "Cap connections (PPPoE) or sessions (hotspot) for a while", onclick: () => act(w, "limit") }, "Limit"),
            h("button", { class: "small danger", "data-testid": "action-ban", title: "Block the address for a while", onclick: () => act(w, "ban") }, "Ban"),
          ),
        ),
      ),
    );
    if (list.length === 0) {
      body.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, overview.metrics.cycles === 0 ? "No check has run yet." : "No warnings in the last 24 hours.")));
    }
  };

  const render = (o: MonitorOverview) => {
    overview = o;
    const c = o.last_cycle;
    status.textContent = c
      ? `Last check ${when(c.at)}: ${thousands(c.subscribers)} subscribers online on ${count(c.routers, "router")}, ${count(c.warnings, "warning")}, ${thousands(c.opened)} new, in ${thousands(c.elapsed_ms)} ms.${c.failed_routers.length ? ` Not reached: ${c.failed_routers.join("; ")}` : ""}`
      : o.settings.enabled
        ? `The monitor checks every ${o.settings.interval_s} s while ShareGuard is open; the first check has not run yet.`
        : "The monitor is off: turn it on in the settings below.";
    const m = o.metrics;
    const card = (label: string, value: string, id: string) => h("div", { class: "card", "data-testid": id }, label, h("div", { class: "big" }, value));
    clear(cards).append(
      card("Warnings, 24 h", thousands(m.warnings), "metric-warnings"),
      card("Throttled / banned", `${m.throttled} / ${m.banned}`, "metric-actions"),
      card("Connections per subscriber", m.avg_connections_per_subscriber === null ? "–" : m.avg_connections_per_subscriber.toFixed(0), "metric-connections"),
      card("P2P share of connections", m.p2p_percent === null ? "–" : `${m.p2p_percent.toFixed(1)}%`, "metric-p2p"),
    );
    const max = Math.max(1, ...m.warnings_by_kind.map(([, n]) => n));
    clear(kinds).append(
      h("h3", {}, "Warnings by kind, 24 h"),
      ...m.warnings_by_kind.map(([k, n]) => {
        // Set through the CSSOM: the CSP forbids inline style attributes.
        const fill = h("span", { class: "bar-fill" });
        fill.style.width = `${(n / max) * 100}%`;
        return h("div", { class: "bar-row", "data-kind": k, "data-count": n }, h("span", { class: "bar-label" }, KIND_LABEL[k]), h("span", { class: "bar" }, fill), h("span", { class: "bar-value" }, String(n)));
      }),
      h("p", { class: "small muted" }, m.top_offenders.length ? `Most warnings: ${m.top_offenders.slice(0, 5).map((t) => `${t.subscriber} (${t.warnings})`).join(", ")}` : ""),
    );
    const t = o.breaker.tripped;
    clear(breaker).append(
      h("strong", {}, "Circuit breaker: "),
      t ? `tripped ${when(t.at)} (${t.candidates} at once, limit ${t.cap}); automatic actions are paused.` : `armed; at most ${o.breaker.max_subscribers} subscribers or ${o.breaker.max_percent}% of those online per check.`,
      " Automatic actions are ",
      h("strong", {}, o.settings.auto_actions ? (o.settings.dry_run ? "on (dry run)" : "on") : "off"),
      ".",
      h("span", {}, t
        ? h("button", {
            "data-testid": "abuse-breaker-resume",
            onclick: async () => {
              try {
                await api.resetBreaker();
                load();
              } catch (e) {
                showError(errorText(e));
              }
            },
          }, "Resume automatic actions")
        : null),
    );
    clear(inForce).append(
      ...o.in_force.map((a) =>
        h(
          "tr",
          { "data-testid": "in-force-row", "data-subscriber": a.subscriber, "data-kind": a.kind },
          h("td", {}, a.subscriber),
          h("td", {}, a.kind),
          h("td", {}, a.kind === "throttle" ? `${detail(a, "rate")} via ${a.method}` : detail(a, "address")),
          h("td", {}, timeLeft(a.expires_at)),
          h("td", { class: "small muted" }, `${a.operator}: ${a.reason}`),
          h("td", {}, h("button", { "data-testid": "action-lift", onclick: () => lift(a) }, "Lift")),
        ),
      ),
    );
    if (o.in_force.length === 0) inForce.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "Nothing in force.")));
    renderSettings(o.settings);
    rows();
  };

  const renderSettings = (s: MonitorSettings) => {
    if (settingsBox.childElementCount > 0) return; // keep what the owner is typing
    const num = (label: string, value: number, id: string, step = "1") =>
      h("label", {}, label, h("input", { type: "number", step, value: String(value), "data-testid": id }));
    const check = (label: string, value: boolean, id: string) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", checked: value, "data-testid": id }), label);
    const get = (id: string) => settingsBox.querySelector(`[data-testid="${id}"]`) as HTMLInputElement;
    settingsBox.append(
      h("summary", {}, "Monitor settings"),
      h(
        "div",
        { class: "grid" },
        check("Monitor while ShareGuard is open", s.enabled, "abuse-enabled"),
        num("Check every (seconds)", s.interval_s, "abuse-interval"),
        num("Connections: warning", s.thresholds.flood_warning, "abuse-flood-warning"),
        num("Connections: throttle", s.thresholds.flood_throttle, "abuse-flood-throttle"),
        num("Connections: ban", s.thresholds.flood_ban, "abuse-flood-ban"),
        num("New per second: warning", s.thresholds.rate_warning, "abuse-rate-warning", "0.1"),
        num("New per second: throttle", s.thresholds.rate_throttle, "abuse-rate-throttle", "0.1"),
        num("Hogging: % of plan", s.thresholds.hog_percent, "abuse-hog-percent"),
        num("Hogging: for minutes", s.thresholds.hog_window_min, "abuse-hog-window"),
        num("Throttle to % of plan", s.throttle_percent, "abuse-throttle-percent"),
        num("Limit: PPPoE connections, normal (0 = no cap)", s.limits.pppoe_normal, "limit-pppoe-normal"),
        num("Limit: PPPoE connections, limited", s.limits.pppoe_suspicious, "limit-pppoe-suspicious"),
        num("Limit: hotspot sessions, normal", s.limits.hotspot_normal, "limit-hotspot-normal"),
        num("Limit: hotspot sessions, limited", s.limits.hotspot_suspicious, "limit-hotspot-suspicious"),
        num("Limit: lasts minutes", s.limits.minutes, "limit-minutes"),
        check("End hotspot sessions over the caps each check", s.limits.enforce_hotspot_sessions, "limit-enforce-hotspot"),
        check("Throttle and ban automatically", s.auto_actions, "abuse-auto"),
        check("Dry run (record only)", s.dry_run, "abuse-dry-run"),
      ),
      h(
        "p",
        { class: "small muted" },
        `Repeat offenders: after ${s.escalation.violations_to_escalate} violations in ${s.escalation.lookback_hours} h the next stricter step is taken; durations ${s.escalation.durations_min.map((m) => (m >= 60 ? `${m / 60} h` : `${m} min`)).join(", ")}. Whitelisted subscribers are never acted on.`,
      ),
      h("button", {
        "data-testid": "abuse-save",
        onclick: async () => {
          const next: MonitorSettings = structuredClone(overview?.settings ?? s);
          next.enabled = get("abuse-enabled").checked;
          next.interval_s = Number(get("abuse-interval").value);
          next.thresholds.flood_warning = Number(get("abuse-flood-warning").value);
          next.thresholds.flood_throttle = Number(get("abuse-flood-throttle").value);
          next.thresholds.flood_ban = Number(get("abuse-flood-ban").value);
          next.thresholds.rate_warning = Number(get("abuse-rate-warning").value);
          next.thresholds.rate_throttle = Number(get("abuse-rate-throttle").value);
          next.thresholds.hog_percent = Number(get("abuse-hog-percent").value);
          next.thresholds.hog_window_min = Number(get("abuse-hog-window").value);
          next.throttle_percent = Number(get("abuse-throttle-percent").value);
          next.limits.pppoe_normal = Number(get("limit-pppoe-normal").value);
          next.limits.pppoe_suspicious = Number(get("limit-pppoe-suspicious").value);
          next.limits.hotspot_normal = Number(get("limit-hotspot-normal").value);
          next.limits.hotspot_suspicious = Number(get("limit-hotspot-suspicious").value);
          next.limits.minutes = Number(get("limit-minutes").value);
          next.limits.enforce_hotspot_sessions = get("limit-enforce-hotspot").checked;
          next.auto_actions = get("abuse-auto").checked;
          next.dry_run = get("abuse-dry-run").checked;
          try {
            await api.saveMonitorSettings(next);
            say("Monitor settings saved; they apply from the next check.");
            load();
          } catch (e) {
            showError(errorText(e));
          }
        },
      }, "Save monitor settings"),
    );
  };

  const load = () =>
    api
      .monitorOverview(24)
      .then(render)
      .catch((e) => showError(errorText(e)));

  // Warnings over the last 30 days and who caused the most, drawn by the backend.
  const history = h("div", { class: "chart-stack" });
  const paintHistory = () =>
    api
      .monitorCharts(30, theme())
      .then((c) =>
        clear(history).append(
          h("div", {}, h("h2", {}, `Warnings in the last ${c.days} days`), svgChart(c.timeline, "Warnings by kind over time", "warnings-timeline")),
          h("div", {}, h("h2", {}, "Most warned subscribers"), svgChart(c.offenders, "Subscribers with the most warnings", "top-offenders")),
        ),
      )
      .catch((e) => showError(errorText(e)));

  const runNow = h("button", {
    "data-testid": "abuse-run",
    onclick: async () => {
      runNow.setAttribute("disabled", "");
      try {
        const c = await api.runMonitor();
        if (!c) say("No router to check: start the demo or add a router.");
        await load();
        paintHistory();
      } catch (e) {
        showError(errorText(e));
      } finally {
        runNow.removeAttribute("disabled");
      }
    },
  }, "Check now");

  kindFilter.addEventListener("change", rows);
  search.addEventListener("input", rows);
  const section = h(
    "section",
    { class: "view" },
    h("h1", {}, "Abuse monitor"),
    h("div", { class: "toolbar" }, status, h("span", {}, runNow, " ", exportButtons(() => ({ kind: "abuse", days: 30 }), ["pdf", "csv"], showError, say))),
    message,
    cards,
    h("div", { class: "abuse-columns" }, kinds, breaker),
    h("h2", {}, "In force"),
    h(
      "table",
      { class: "plain", "data-testid": "actions-in-force" },
      h("thead", {}, h("tr", {}, h("th", {}, "Subscriber"), h("th", {}, "Action"), h("th", {}, "How"), h("th", {}, "Time left"), h("th", {}, "Who and why"), h("th", {}, ""))),
      inForce,
    ),
    h("h2", {}, "Warnings"),
    h("div", { class: "filters" }, kindFilter, search),
    h(
      "table",
      { class: "plain compact", "data-testid": "abuse-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Last seen"), h("th", {}, "Subscriber"), h("th", {}, "Router"), h("th", {}, "Kind"), h("th", {}, "Severity"), h("th", {}, "Details and action taken"), h("th", {}, ""))),
      body,
    ),
    history,
    settingsBox,
    notificationsPanel(showError),
  );
  paintHistory();
  onThemeChange(section, paintHistory);
  state.onScreen(events.monitorCycle(load));
  load();
  return section;
}

/** One field of an action's details (a JSON object the engine wrote), as text. */
function detail(a: ActionRecord, key: string): string {
  const d = a.details;
  return d && typeof d === "object" && !Array.isArray(d) ? String(d[key] ?? "") : "";
}
