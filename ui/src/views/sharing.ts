// Sharing detection: scan, watch progress per router, read and act on results.
import { h, clear, count, when, thousands } from "../dom";
import { api, errorText, events, LEVELS, type ProgressEvent, type ResultRow, type RouterResults } from "../api";
import { state } from "../state";
import { ResultsTable } from "./table";
import { settingsPanel } from "./settings";
import { exportButtons } from "./export";
import { recommendedWords, ttlStatusWords } from "../words";
import { navigate } from "../nav";

export function sharingView(showError: (m: string) => void): HTMLElement {
  const detail = h("aside", { class: "detail", hidden: true });
  const counter = h("span", { class: "muted", "data-testid": "results-count" });
  const table = new ResultsTable(
    (r) => openDetail(r),
    () => ({
      disconnect: state.may("act") ? (r) => void disconnect(r) : undefined,
      whitelist: state.may("whitelist") ? (r) => openDetail(r, true) : undefined,
      open: (r) => navigate("subscriber", r.subscriber),
    }),
    () => (counter.textContent = `${thousands(table.matched)} of ${thousands(table.total)} subscribers`),
    showError,
  );

  /** Ends the subscriber's session after the owner confirms, and says how it went. */
  async function disconnect(r: ResultRow): Promise<void> {
    const why = window.prompt(
      `Disconnect ${r.subscriber} from ${r.nas} now?\n\nTheir session ends at once (they can log in again). The reason goes into the audit log:`,
      r.reasons[0] ?? "",
    );
    if (why === null) return;
    try {
      const rep = await api.disconnect(r.subscriber, why);
      const how = rep.method === "radius" ? `RADIUS Disconnect-Request (${rep.radius_tries} ${rep.radius_tries === 1 ? "try" : "tries"})` : "the router's API";
      showError(`${r.subscriber} was disconnected through ${how} in ${Math.round(rep.elapsed_ms)} ms.${rep.note ? " " + rep.note : ""}`);
      await state.refresh();
    } catch (e) {
      showError(errorText(e));
    }
  }
  const progress = h("div", { class: "progress", "data-testid": "scan-progress" });
  const search = h("input", {
    type: "search",
    placeholder: "Search subscriber, address or router",
    "data-testid": "results-search",
    "aria-label": "Search",
  }) as HTMLInputElement;
  const level = h(
    "select",
    { "aria-label": "Minimum level" },
    ...LEVELS.map((l, i) => h("option", { value: i }, i === 0 ? "All levels" : `${l} and above`)),
  ) as HTMLSelectElement;
  const tag = h(
    "select",
    { "aria-label": "Reseller or area", "data-testid": "tag-filter" },
    h("option", { value: "" }, "All tags"),
    ...(state.status?.tags ?? []).map((t) => h("option", { value: t }, t)),
  ) as HTMLSelectElement;
  tag.value = state.tagFilter;
  const refilter = () => {
    state.tagFilter = tag.value;
    table.setFilter({ search: search.value, minLevel: Number(level.value), tag: tag.value });
  };
  search.addEventListener("input", refilter);
  level.addEventListener("change", refilter);
  tag.addEventListener("change", refilter);

  const scanButton = h("button", { class: "primary", "data-testid": "scan-all" }, "Scan all routers") as HTMLButtonElement;
  const routers = state.status?.routers ?? [];
  const routerPick = h(
    "select",
    { "aria-label": "Router to scan", "data-testid": "scan-router-pick" },
    ...(routers.length ? routers.map((r) => h("option", { value: r.name }, r.name)) : [h("option", { value: "" }, "No routers yet")]),
  ) as HTMLSelectElement;
  const routerButton = h("button", { "data-testid": "scan-router" }, "Scan router") as HTMLButtonElement;
  const known = h("datalist", { id: "known-subscribers" });
  const subscriberPick = h("input", {
    type: "search",
    list: "known-subscribers",
    placeholder: "Subscriber login",
    "aria-label": "Subscriber to scan",
    "data-testid": "scan-subscriber-name",
  }) as HTMLInputElement;
  // Suggestions from the stored results, narrowed as the owner types; an
  // answer to an earlier keystroke never replaces a later one's.
  let asked = 0;
  subscriberPick.addEventListener("input", async () => {
    const q = subscriberPick.value.trim();
    const mine = ++asked;
    const hits = q ? (await api.resultsPage({ search: q, order: "subscriber", ascending: true, limit: 20 }).catch(() => null))?.rows ?? [] : [];
    if (mine === asked) clear(known).append(...hits.map((r) => h("option", { value: r.subscriber }, `${r.nas} · ${r.level}`)));
  });
  const subscriberButton = h("button", { "data-testid": "scan-subscriber" }, "Scan subscriber") as HTMLButtonElement;
  const cancelButton = h("button", { hidden: true }, "Cancel") as HTMLButtonElement;
  const clearButton = h("button", { class: "danger", "data-testid": "clear-results" }, "Clear results") as HTMLButtonElement;
  const bars = new Map<string, HTMLElement>();
  const scanButtons = [scanButton, routerButton, subscriberButton];
  // Nothing to scan (after a restart only the demo's results are left):
  // the buttons say where to go instead of failing when pressed.
  if (!routers.length) {
    for (const b of scanButtons) {
      b.disabled = true;
      b.title = "No router to scan: add one on the Routers screen, or restart the demo";
    }
  }

  const barFor = (name: string): HTMLElement => {
    let row = bars.get(name);
    if (!row) {
      const bar = h("div", { class: "bar" }, h("span", { class: "fill" }));
      row = h("div", { class: "router-progress", "data-router": name }, h("span", {}, name), bar, h("span", { class: "state muted" }, "waiting"));
      bars.set(name, row);
      progress.append(row);
    }
    return row;
  };

  async function startScan(scope: { router?: string; subscriber?: string }): Promise<void> {
    clear(progress);
    bars.clear();
    if (!scope.subscriber) {
      for (const r of state.status?.routers ?? []) if (!scope.router || r.name === scope.router) barFor(r.name);
    }
    try {
      scanButtons.forEach((b) => (b.disabled = true));
      cancelButton.hidden = false;
      await api.scan(scope);
    } catch (e) {
      scanButtons.forEach((b) => (b.disabled = false));
      cancelButton.hidden = true;
      showError(errorText(e));
    }
  }
  scanButton.addEventListener("click", () => startScan({}));
  routerButton.addEventListener("click", () => {
    // An empty name would mean every router to the backend.
    if (!routerPick.value) return showError("Add a router on the Routers screen (or start the demo) before scanning one.");
    void startScan({ router: routerPick.value });
  });
  subscriberButton.addEventListener("click", () => {
    const name = subscriberPick.value.trim();
    if (!name) return showError("Type the subscriber's login name to scan them.");
    void startScan({ subscriber: name });
  });
  cancelButton.addEventListener("click", () => api.cancelScan().catch((e) => showError(errorText(e))));
  clearButton.addEventListener("click", async () => {
    const n = table.total;
    if (!window.confirm(`Clear all ${thousands(n)} stored results? Scan history and the audit log are kept; the next scan fills the table again.`)) return;
    try {
      await api.clearResults();
      detail.hidden = true;
      await state.refresh();
    } catch (e) {
      showError(errorText(e));
    }
  });

  // When each router started sending rows, for its rate.
  const readingSince = new Map<string, number>();
  state.onScreen(events.progress((e: ProgressEvent) => {
    const row = barFor(e.nas);
    const stateEl = row.querySelector(".state") as HTMLElement;
    const fill = row.querySelector(".fill") as HTMLElement;
    if (e.stage === "reading") {
      const since = readingSince.get(e.nas) ?? performance.now();
      readingSince.set(e.nas, since);
      const secs = (performance.now() - since) / 1000;
      const rate = secs > 0.5 ? `, ${thousands(Math.round(e.rows / secs))} rows/s` : "";
      if (e.expected) {
        const share = Math.min(1, e.rows / e.expected);
        stateEl.textContent = `${thousands(e.rows)} of ${thousands(e.expected)} connections read${rate}`;
        fill.style.width = `${Math.round(10 + share * 85)}%`;
      } else {
        stateEl.textContent = `${thousands(e.rows)} connections read${rate}`;
        fill.style.width = "50%";
      }
    } else if (e.stage === "finished" && e.outcome) {
      fill.style.width = "100%";
      row.classList.add(e.outcome.status === "ok" ? "ok" : "failed");
      stateEl.textContent =
        e.outcome.status === "ok"
          ? `${e.outcome.checked} checked, ${e.outcome.flagged} flagged`
          : e.outcome.error ?? e.outcome.status;
    } else {
      readingSince.delete(e.nas);
      stateEl.textContent = "connecting";
      fill.style.width = "10%";
    }
  }));
  state.onScreen(events.results(showFlagged));
  state.onScreen(events.autoActions(async (a) => {
    showError(
      a.tripped
        ? "Automatic disconnect is paused: too many subscribers qualified at once. Check the detection settings, then resume it in the settings panel."
        : `${a.dry_run ? "Dry run: would have disconnected" : "Automatically disconnected"} ${count(a.disconnected.length, "subscriber")}${a.failed ? `, ${a.failed} failed (see the audit log)` : ""}.`,
    );
    await state.refresh();
  }));
  state.onScreen(events.finished(async () => {
    scanButtons.forEach((b) => (b.disabled = false));
    cancelButton.hidden = true;
    await state.refresh();
  }));
  state.onScreen(events.failed(async (message) => {
    scanButtons.forEach((b) => (b.disabled = false));
    cancelButton.hidden = true;
    // Bars left at "waiting" would suggest it is still going.
    clear(progress);
    bars.clear();
    showError(`The scan could not be saved: ${message}`);
    await state.refresh();
  }));

  /** A router's flagged subscribers, under its bar as soon as it is done;
   *  the table shows every result once the scan is stored. */
  function showFlagged(part: RouterResults): void {
    const row = barFor(part.nas);
    row.querySelector(".live-flagged")?.remove();
    if (part.flagged === 0) return;
    row.append(
      h(
        "div",
        { class: "live-flagged", "data-testid": "live-flagged" },
        ...part.flagged_rows.slice(0, 8).map((r) =>
          h("button", { class: `small link level-${r.level}`, "data-subscriber": r.subscriber, onclick: () => openDetail(r) }, h("span", { class: `badge ${r.level}` }, r.level), " ", r.subscriber),
        ),
        part.flagged > 8 ? h("span", { class: "muted" }, `and ${thousands(part.flagged - 8)} more`) : "",
      ),
    );
  }

  function openDetail(r: ResultRow, focusWhitelist = false): void {
    detail.hidden = false;
    const actions = h("div", { class: "actions" });
    const reason = h("input", {
      type: "text",
      "data-testid": "whitelist-reason",
      placeholder: "Why is this subscriber excused?",
      "aria-label": "Whitelist reason",
      maxlength: 500,
    }) as HTMLInputElement;
    const whitelistButton = h(
      "button",
      { "data-testid": "whitelist-button" },
      r.whitelisted ? "Remove from whitelist" : "Whitelist",
    ) as HTMLButtonElement;
    whitelistButton.addEventListener("click", async () => {
      try {
        if (r.whitelisted) {
          await api.whitelistRemove(r.subscriber);
          showError(`${r.subscriber} is off the whitelist; the next scan judges them again.`);
        } else {
          await api.whitelistAdd(r.subscriber, reason.value);
        }
        await state.refresh();
        const fresh = await api.resultRow(r.subscriber);
        if (fresh) openDetail(fresh);
      } catch (e) {
        showError(errorText(e));
      }
    });
    if (!r.whitelisted) actions.append(reason);
    actions.append(whitelistButton);
    const tagInput = h("input", { type: "text", value: r.tag ?? "", placeholder: "Reseller or area", "aria-label": "Tag", maxlength: 64, "data-testid": "subscriber-tag" }) as HTMLInputElement;
    const tagSave = h("button", { "data-testid": "subscriber-tag-save" }, "Set tag") as HTMLButtonElement;
    tagSave.addEventListener("click", async () => {
      try {
        await api.setSubscriberTag(r.subscriber, tagInput.value.trim() || null);
        await state.refresh();
      } catch (e) {
        showError(errorText(e));
      }
    });
    const open = h("button", { class: "link", "data-testid": "open-subscriber", onclick: () => navigate("subscriber", r.subscriber) }, "Open subscriber →");
    // The table row is slim; the rest comes with the subscriber's details.
    const scanned = h("p", { class: "muted" }, `${r.address} on ${r.nas}`);
    const recommended = h("p", { class: "muted" }, "…");
    api
      .subscriberDetail(r.subscriber)
      .then((d) => {
        const full = d.result;
        if (!full) return;
        scanned.textContent = `${full.address} on ${full.nas} (${full.access}) · scanned ${when(full.scanned_at)}${full.whitelisted ? ` · the rules alone say ${full.assessed_level}` : ""}`;
        recommended.textContent = recommendedWords(full.recommended_action);
        recommended.className = "";
      })
      .catch((e) => (recommended.textContent = errorText(e)));
    clear(detail).append(
      h("button", { class: "close", "aria-label": "Close", onclick: () => (detail.hidden = true) }, "×"),
      h("h2", {}, r.subscriber),
      scanned,
      h(
        "p",
        {},
        h("span", { class: `badge ${r.level}` }, r.whitelisted ? "whitelisted" : r.level),
        " ",
        ttlStatusWords(r.ttl_status),
        r.disconnected_at ? ` · disconnected ${when(r.disconnected_at)}` : "",
      ),
      h("h3", {}, "Why"),
      h("ul", { class: "reasons", "data-testid": "reasons" }, ...r.reasons.map((x) => h("li", {}, x))),
      h("h3", {}, "Recommended"),
      recommended,
      actions,
      h("div", { class: "actions" }, tagInput, tagSave),
      open,
    );
    if (focusWhitelist) reason.focus();
  }

  const summary = h("p", { class: "muted", "data-testid": "last-scan" });
  const render = () => {
    const last = state.status?.last_scan;
    summary.textContent = last
      ? `Last scan ${when(last.started_at)} by ${last.operator}: ${thousands(last.checked)} checked, ${thousands(last.flagged)} flagged (${last.status}).`
      : "No scan yet.";
    table.showTags((state.status?.tags.length ?? 0) > 0);
  };
  state.listeners.add(() => {
    render();
    table.reload();
  });
  render();
  refilter();

  return h(
    "section",
    { class: "view sharing" },
    h("header", { class: "toolbar" }, h("h1", {}, "Sharing detection"), scanButton, cancelButton, exportButtons(() => ({ kind: "scan", tag: state.tagFilter || null }), ["pdf", "csv"], showError), clearButton),
    h("div", { class: "toolbar scan-one" }, routerPick, routerButton, subscriberPick, known, subscriberButton),
    summary,
    settingsPanel(showError),
    progress,
    h("div", { class: "filters" }, search, level, tag, counter),
    h("div", { class: "split" }, table.root, detail),
  );
}
