// The sharing-detection settings panel: automatic scanning, its schedule
// (with the next runs in plain words), and the thresholds.
import { h, clear, when } from "../dom";
import { api, errorText, type SettingsView } from "../api";

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
  const save = h("button", { class: "primary", "data-testid": "settings-save" }, "Save settings") as HTMLButtonElement;
  const saved = h("span", { class: "muted" });
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
    };
    try {
      await api.saveSettings(detection, { automatic: automatic.checked, cron: cron.value });
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
    refreshPreview();
  }

  const row = (label: string, ...inputs: HTMLElement[]) => h("label", { class: "field" }, h("span", {}, label), ...inputs);
  clear(body).append(
    h("label", { class: "check" }, automatic, " Scan automatically while the app is open"),
    row("Schedule (cron: minute hour day month weekday)", cron),
    preview,
    h("div", { class: "row3" }, row("Watch from", low), row("Review from", medium), row("Sharing from", high)),
    h("p", { class: "muted small" }, "Connections per subscriber. Peer-to-peer connections are not counted unless you tick the box below."),
    row("TTL threshold (hops below the OS default on PPPoE)", ttl),
    h("label", { class: "check" }, p2p, " Count peer-to-peer connections towards sharing"),
    h("div", { class: "actions" }, save, saved),
  );
  load().catch((e) => showError(errorText(e)));
  return box;
}
