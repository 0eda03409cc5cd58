// The sharing-detection settings panel: automatic scanning, its schedule
// (with the next runs in plain words), the reports after scheduled scans,
// and the thresholds.
import { h, clear, when } from "../dom";
import { api, errorText, LEVELS, type Level, type SettingsView } from "../api";

export function settingsPanel(showError: (m: string) => void): HTMLElement {
  const box = h("details", { class: "settings", "data-testid": "settings-panel" }, h("summary", {}, "Settings"));
  const body = h("div", { class: "settings-body" });
  box.append(body);

  const num = (name: string, min: number, max: number) =>
    h("input", { type: "number", name, min, max, required: "" }) as HTMLInputElement;
  const automatic = h("input", { type: "checkbox", name: "automatic", "data-testid": "schedule-enabled" }) as HTMLInputElement;
  const cron = h("input", { name: "cron", "data-testid": "schedule-cron", spellcheck: "false" }) as HTMLInputElement;
  const preview = h("p", { class: "muted", "data-testid": "schedule-preview" });
  const low = num("connections_low", 1, 1_000_000);
  const medium = num("connections_medium", 1, 1_000_000);
  const high = num("connections_high", 1, 1_000_000);
  const ttl = num("ttl_threshold", 1, 8);
  const p2p = h("input", { type: "checkbox", name: "count_p2p" }) as HTMLInputElement;
  const twice = h("select", { name: "concurrent_sessions_level", "aria-label": "Level of a login online twice at once", "data-testid": "concurrent-sessions-level" },
    ...LEVELS.slice(1).map((l) => h("option", { value: l }, l))) as HTMLSelectElement;
  const notify = h("input", { type: "checkbox", name: "notify_on_flag", "data-testid": "notify-on-flag" }) as HTMLInputElement;
  const notifyLevel = h("select", { name: "notify_min_level", "aria-label": "Notify from level" },
    ...LEVELS.slice(2).map((l) => h("option", { value: l }, `${l} and above`))) as HTMLSelectElement;
  const toTray = h("input", { type: "checkbox", name: "close_to_tray" }) as HTMLInputElement;
  const atLogin = h("input", { type: "checkbox", name: "start_at_login", "data-testid": "start-at-login" }) as HTMLInputElement;
  const keepDays = num("retention_days", 30, 3650);
  const autoDisconnect = h("input", { type: "checkbox", name: "auto_disconnect", "data-testid": "auto-disconnect" }) as HTMLInputElement;
  const autoLevel = h("select", { name: "auto_disconnect_level", "aria-label": "Disconnect from level", "data-testid": "auto-disconnect-level" },
    ...LEVELS.slice(3).map((l) => h("option", { value: l }, `${l} and above`))) as HTMLSelectElement;
  const dryRun = h("input", { type: "checkbox", name: "dry_run", "data-testid": "auto-dry-run" }) as HTMLInputElement;
  const capSubscribers = num("breaker_max_subscribers", 1, 10_000);
  const capPercent = num("breaker_max_percent", 0.1, 100);
  capPercent.step = "0.1";
  const breakerState = h("p", { class: "muted", "data-testid": "breaker-state" });
  const resume = h("button", { "data-testid": "breaker-resume", hidden: true }, "Resume automatic disconnect") as HTMLButtonElement;
  resume.addEventListener("click", async () => {
    try {
      await api.resetBreaker();
      await load();
    } catch (e) {
      showError(errorText(e));
    }
  });
  const reportsOn = h("input", { type: "checkbox", name: "reports_enabled", "data-testid": "reports-enabled" }) as HTMLInputElement;
  const reportsFolder = h("input", { name: "reports_folder", "data-testid": "reports-folder", spellcheck: "false", placeholder: "Folder (full path)" }) as HTMLInputElement;
  const reportsPdf = h("input", { type: "checkbox", name: "reports_pdf", "data-testid": "reports-pdf" }) as HTMLInputElement;
  const reportsCsv = h("input", { type: "checkbox", name: "reports_csv", "data-testid": "reports-csv" }) as HTMLInputElement;
  const chooseFolder = h("button", {
    type: "button",
    "data-testid": "reports-choose",
    onclick: async () => {
      try {
        const folder = await api.pickFolder();
        if (folder) reportsFolder.value = folder;
      } catch (e) {
        showError(errorText(e));
      }
    },
  }, "Choose…");
  const save = h("button", { class: "primary", "data-testid": "settings-save" }, "Save settings") as HTMLButtonElement;
  const saved = h("span", { class: "muted" });
  const limits = h("p", { class: "muted small", "data-testid": "time-limits" });
  let current: SettingsView | null = null;

  let timer = 0;
  const refreshPreview = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(async () => {
      try {
        const p = await api.previewSchedule(cron.value);
        preview.className = "muted";
        preview.textContent = `${p.description}. Next: ${p.next_runs.map((t) => when(t)).join(" · ")}${automatic.checked ? "" : " (automatic scanning is off)"}`;
      } catch (e) {
        preview.className = "invalid";
        preview.textContent = errorText(e);
      }
    }, 200);
  };
  cron.addEventListener("input", refreshPreview);
  automatic.addEventListener("change", refreshPreview);

  save.addEventListener("click", async () => {
    if (!current) return;
    const detection = {
      ...current.detection,
      connections_low: Number(low.value),
      connections_medium: Number(medium.value),
      connections_high: Number(high.value),
      ttl_threshold: Number(ttl.value),
      count_p2p_connections: p2p.checked,
      concurrent_sessions_level: twice.value as Level,
    };
    try {
      await api.saveSettings({
        detection,
        schedule: { automatic: automatic.checked, cron: cron.value },
        desktop: {
          close_to_tray: toTray.checked,
          notify_on_flag: notify.checked,
          notify_min_level: notifyLevel.value as Level,
          start_at_login: atLogin.checked,
        },
        retention: { days: Number(keepDays.value) },
        actions: { auto_disconnect: autoDisconnect.checked, min_level: autoLevel.value as Level, dry_run: dryRun.checked },
        breaker: { ...current.breaker, max_subscribers: Number(capSubscribers.value), max_percent: Number(capPercent.value) },
        reports: { enabled: reportsOn.checked, folder: reportsFolder.value.trim(), pdf: reportsPdf.checked, csv: reportsCsv.checked },
      });
      saved.textContent = "Saved. New thresholds apply from the next scan.";
      await load();
    } catch (e) {
      saved.textContent = "";
      showError(errorText(e));
    }
  });

  async function load(): Promise<void> {
    current = await api.getSettings();
    automatic.checked = current.schedule.automatic;
    cron.value = current.schedule.cron;
    low.value = String(current.detection.connections_low);
    medium.value = String(current.detection.connections_medium);
    high.value = String(current.detection.connections_high);
    ttl.value = String(current.detection.ttl_threshold);
    p2p.checked = current.detection.count_p2p_connections;
    twice.value = current.detection.concurrent_sessions_level;
    notify.checked = current.desktop.notify_on_flag;
    notifyLevel.value = current.desktop.notify_min_level;
    toTray.checked = current.desktop.close_to_tray;
    atLogin.checked = current.desktop.start_at_login;
    keepDays.value = String(current.retention.days);
    autoDisconnect.checked = current.actions.auto_disconnect;
    autoLevel.value = current.actions.min_level;
    dryRun.checked = current.actions.dry_run;
    capSubscribers.value = String(current.breaker.max_subscribers);
    capPercent.value = String(current.breaker.max_percent);
    reportsOn.checked = current.reports.enabled;
    reportsFolder.value = current.reports.folder;
    reportsPdf.checked = current.reports.pdf;
    reportsCsv.checked = current.reports.csv;
    limits.textContent = current.time_limits;
    const trip = current.breaker.tripped;
    breakerState.className = trip ? "invalid" : "muted";
    breakerState.textContent = trip
      ? `Paused since ${when(trip.at)}: ${trip.candidates} subscribers qualified at once, more than the limit of ${trip.cap}. Nothing was disconnected.`
      : "Automatic disconnects per scan stop at the lower of the two limits; above it, nothing is disconnected and automation pauses until you resume it.";
    resume.hidden = !trip;
    refreshPreview();
  }

  const row = (label: string, ...inputs: HTMLElement[]) => h("label", { class: "field" }, h("span", {}, label), ...inputs);
  clear(body).append(
    h("label", { class: "check" }, automatic, " Scan automatically while the app is open"),
    row("Schedule (cron: minute hour day month weekday)", cron),
    preview,
    h("label", { class: "check" }, reportsOn, " After each scheduled scan, save its report to a folder:"),
    h("div", { class: "folder-pick" }, reportsFolder, chooseFolder, h("label", { class: "check" }, reportsPdf, " PDF"), h("label", { class: "check" }, reportsCsv, " CSV (every subscriber checked)")),
    h("div", { class: "row3" }, row("Watch from", low), row("Review from", medium), row("Sharing from", high)),
    h("p", { class: "muted small" }, "Connections per subscriber. Peer-to-peer connections are not counted unless you tick the box below."),
    row("TTL threshold (hops below the OS default on PPPoE)", ttl),
    h("label", { class: "check" }, p2p, " Count peer-to-peer connections towards sharing"),
    h("label", { class: "check" }, "A PPPoE login online twice at once from two devices is at least ", twice),
    h("label", { class: "check" }, notify, " Notify me when a scan flags new subscribers at ", notifyLevel),
    h("label", { class: "check" }, autoDisconnect, " Disconnect automatically after each scan: ", autoLevel),
    h("p", { class: "muted small" }, "Whitelisted subscribers are never disconnected. Every automatic disconnect is in the audit log as \"system\"."),
    h("label", { class: "check" }, dryRun, " Dry run: record what would be disconnected, send nothing"),
    h("div", { class: "row3" }, row("At most (subscribers per scan)", capSubscribers), row("At most (% of those checked)", capPercent)),
    breakerState,
    resume,
    h("label", { class: "check" }, toTray, " Closing the window keeps ShareGuard running in the tray (scheduled scans go on)"),
    h("label", { class: "check" }, atLogin, " Start ShareGuard when I log in (minimised to the tray)"),
    row("Keep scan history for (days; the latest result of every subscriber is always kept)", keepDays),
    limits,
    h("div", { class: "actions" }, save, saved),
  );
  load().catch((e) => showError(errorText(e)));
  return box;
}
