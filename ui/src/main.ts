// The app shell: first run, navigation, and one place errors are shown in words.
import "./styles.css";
import { h, clear, count } from "./dom";
import { api, errorText } from "./api";
import { state } from "./state";
import { dashboardView } from "./views/dashboard";
import { sharingView } from "./views/sharing";
import { abuseView } from "./views/abuse";
import { auditView } from "./views/audit";
import { routersView } from "./views/routers";
import { subscriberView } from "./views/subscriber";
import { whitelistView } from "./views/whitelist";
import { lockScreen, operatorsView } from "./views/operators";
import { setNavigator, type Screen } from "./nav";


const app = document.getElementById("app") as HTMLElement;
const errorBar = h("div", { class: "error", role: "alert", "data-testid": "error-message", hidden: true });
const main = h("main");
let screen: Screen = "sharing";
let subject = "";
setNavigator((next, about) => {
  screen = next;
  subject = about ?? "";
  render();
});

function showError(message: string): void {
  errorBar.hidden = false;
  clear(errorBar).append(
    h("span", {}, message),
    h("button", { class: "close", "aria-label": "Dismiss", onclick: () => (errorBar.hidden = true) }, "×"),
  );
}

function firstRun(): HTMLElement {
  const start = h("button", { class: "primary big", "data-testid": "demo-start" }, "Try the demo") as HTMLButtonElement;
  start.addEventListener("click", async () => {
    start.disabled = true;
    start.textContent = "Starting simulated routers…";
    try {
      await api.startDemo();
      await state.refresh();
      render();
    } catch (e) {
      start.disabled = false;
      start.textContent = "Try the demo";
      showError(errorText(e));
    }
  });
  return h(
    "section",
    { class: "view first-run" },
    h("h1", {}, "Welcome to ShareGuard"),
    h(
      "p",
      {},
      "ShareGuard finds subscribers who share one paid account with other households, by the TTL fingerprints and connection counts their MikroTik router reports.",
    ),
    h(
      "p",
      { class: "muted" },
      "No router is configured yet. The demo starts three simulated MikroTik routers on this computer (two PPPoE, one hotspot, 600 subscribers), installs the TTL probes on them and lets you scan, whitelist and explore every screen.",
    ),
    start,
    h("h2", {}, "Or connect your own router"),
    h(
      "p",
      { class: "muted" },
      "Add the router's address and an API user (read access plus firewall write for the probes), test the connection, preview the TTL probe rules and install them, then run the first scan. The Routers screen walks you through it.",
    ),
    h("button", { "data-testid": "setup-router", onclick: () => ((screen = "routers"), (setupMode = true), render()) }, "Set up a router"),
  );
}

let setupMode = false;

/** The demo's data labelled on every screen while it stays: what it is, and
 * one click to restart or remove it. After a restart of the app the demo's
 * routers are gone but their results stay, so the owner always has a next
 * step and never mistakes them for their own network. */
function demoBanner(): HTMLElement | null {
  const s = state.status;
  if (!s || !s.operator) return null;
  const running = s.demo_running;
  if (!running && s.demo_results === 0) return null;
  const busy = (b: HTMLButtonElement, text: string) => {
    b.disabled = true;
    b.textContent = text;
  };
  const restart = h("button", { "data-testid": "demo-restart" }, "Restart the demo") as HTMLButtonElement;
  restart.addEventListener("click", async () => {
    busy(restart, "Starting simulated routers…");
    try {
      await api.startDemo();
    } catch (e) {
      showError(errorText(e));
    }
    await state.refresh();
    render();
  });
  const remove = h("button", { class: "danger", "data-testid": "demo-remove" }, running ? "End the demo" : "Remove the demo's results") as HTMLButtonElement;
  remove.addEventListener("click", async () => {
    busy(remove, "Removing…");
    try {
      await api.removeDemo();
      screen = "sharing";
    } catch (e) {
      showError(errorText(e));
    }
    await state.refresh();
    render();
  });
  const results = count(s.demo_results, "result");
  const capital = results.charAt(0).toUpperCase() + results.slice(1);
  const text = running
    ? `Demo: three simulated routers on this computer, not your network${s.demo_results ? ` (${results} so far)` : ""}. Ending it removes its results, warnings and actions.`
    : `${capital} from the demo ${s.demo_results === 1 ? "is" : "are"} still here: its simulated routers stopped when ShareGuard closed. Restart the demo to go on with it, or remove its results.`;
  return h(
    "div",
    { class: "demo-banner", role: "status", "data-testid": "demo-banner" },
    h("span", { class: "demo-tag" }, "DEMO"),
    h("span", { class: "grow" }, text),
    h("div", { class: "button-row" }, running ? null : restart, remove),
  );
}

function nav(): HTMLElement {
  const item = (id: Screen, label: string) =>
    h("button", { class: screen === id ? "nav active" : "nav", onclick: () => ((screen = id), render()) }, label);
  const s = state.status;
  const demo = state.status?.demo_running ? h("span", { class: "demo-tag", title: "Simulated routers, not a real network" }, "DEMO") : null;
  return h(
    "nav",
    {},
    h("div", { class: "brand" }, "ShareGuard", demo),
    item("dashboard", "Dashboard"),
    item("sharing", "Sharing detection"),
    item("abuse", "Abuse monitor"),
    item("routers", "Routers"),
    item("whitelist", "Whitelist"),
    item("audit", "Audit log"),
    s?.operator?.name === "owner" ? item("operators", "Operators") : null,
    h("div", { class: "grow" }),
    h(
      "div",
      { class: "operator muted small", "data-testid": "current-operator" },
      `Signed in: ${s?.operator?.name ?? "–"}`,
      (s?.profiles.length ?? 0) > 1
        ? h("button", {
            class: "link",
            "data-testid": "lock-app",
            onclick: async () => {
              await api.lockApp();
              await state.refresh();
              render();
            },
          }, " Switch / lock")
        : null,
    ),
    h("div", { class: "muted small", title: state.status?.database ?? "" }, "History is kept on this computer"),
  );
}

function render(): void {
  state.leaveScreen();
  const s = state.status;
  clear(app);
  if (s && !s.operator) {
    app.append(errorBar, lockScreen(() => ((screen = "sharing"), state.refresh().then(render)), showError));
    return;
  }
  // Stored results without routers (history from the CLI, or a demo's
  // from before a restart) still open the app.
  if ((!s || (s.routers.length === 0 && s.result_count === 0)) && !setupMode) {
    app.append(errorBar, firstRun());
    return;
  }
  clear(main);
  const views: Record<Screen, () => HTMLElement> = {
    dashboard: () => dashboardView(showError),
    sharing: () => sharingView(showError),
    abuse: () => abuseView(showError),
    routers: () => routersView(showError),
    whitelist: () => whitelistView(showError),
    audit: () => auditView(showError),
    operators: () => operatorsView(showError),
    subscriber: () => subscriberView(subject, showError),
  };
  main.append(views[screen]());
  app.append(nav(), h("div", { class: "content" }, demoBanner(), errorBar, main));
}

state
  .refresh()
  .then(render)
  .catch((e) => {
    render();
    showError(errorText(e));
  });
