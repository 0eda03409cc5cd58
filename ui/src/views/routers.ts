// Routers: the demo routers, the owner's own, and the form to add one.
// Passwords go to the operating system's keyring, never to the database.
import { h, clear, count } from "../dom";
import { api, errorText, type ProbeReport, type RouterInput } from "../api";
import { state } from "../state";
import { navigate } from "../nav";

function field(label: string, input: HTMLElement, hint = ""): HTMLElement {
  return h("label", { class: "field" }, h("span", {}, label), input, hint ? h("small", { class: "muted" }, hint) : null);
}

export function routersView(showError: (m: string) => void): HTMLElement {
  const list = h("tbody");
  const keyringNote = h("div", { class: "notice", hidden: true, "data-testid": "keyring-status" });
  const testResult = h("p", { class: "test-result", "data-testid": "router-test-result" });

  const input = (attrs: Record<string, string>) => h("input", attrs) as HTMLInputElement;
  const name = input({ name: "name", required: "", maxlength: "64", placeholder: "Main NAS" });
  const host = input({ name: "host", required: "", placeholder: "192.0.2.1" });
  const port = input({ name: "port", type: "number", min: "1", max: "65535", value: "8728" });
  const user = input({ name: "username", required: "", value: "admin" });
  const password = input({ name: "password", type: "password", autocomplete: "new-password" });
  const tls = input({ name: "tls", type: "checkbox" });
  const fingerprint = input({ name: "tls_fingerprint", placeholder: "AB:CD:… (SHA-256), for a self-signed certificate" });
  const access = h("select", { name: "access" }, h("option", { value: "pppoe" }, "PPPoE (customer router is one hop)"), h("option", { value: "hotspot" }, "Hotspot / direct Wi-Fi (devices attach directly)")) as HTMLSelectElement;
  const tag = input({ name: "tag", placeholder: "Reseller or area (optional)" });
  const hops = input({ name: "expected_hops", type: "number", min: "0", max: "8", placeholder: "1 for PPPoE, 0 for hotspot" });
  const radius = input({ name: "radius", type: "checkbox", "data-testid": "router-radius" });
  const radiusPort = input({ name: "radius_port", type: "number", min: "1", max: "65535", value: "3799", "data-testid": "router-radius-port" });
  const radiusSecret = input({ name: "radius_secret", type: "password", autocomplete: "new-password", "data-testid": "router-radius-secret" });
  const radiusFields = h("div", { class: "row", hidden: true }, field("RADIUS port (/radius incoming)", radiusPort), field("RADIUS shared secret", radiusSecret, "Kept in this computer's keyring; empty keeps the stored one."));
  radius.addEventListener("change", () => (radiusFields.hidden = !radius.checked));
  const fetchFp = h("button", { type: "button", "data-testid": "fetch-fingerprint" }, "Fetch from router") as HTMLButtonElement;
  fetchFp.addEventListener("click", async () => {
    try {
      fingerprint.value = await api.fetchFingerprint(host.value, Number(port.value));
      tls.checked = true;
      showError(`Compare ${fingerprint.value} with the router's own (/certificate print detail) before saving: a match means nobody is in between.`);
    } catch (e) {
      showError(errorText(e));
    }
  });
  tls.addEventListener("change", () => {
    if (tls.checked && port.value === "8728") port.value = "8729";
    if (!tls.checked && port.value === "8729") port.value = "8728";
  });

  const save = h("button", { class: "primary", type: "submit", "data-testid": "router-save" }, "Save router");
  const form = h(
    "form",
    { class: "router-form", "data-testid": "router-form" },
    h("h2", {}, "Add a router"),
    field("Name", name),
    h("div", { class: "row" }, field("Address", host), field("API port", port)),
    h("div", { class: "row" }, field("API user", user), field("Password", password, "Kept in this computer's keyring.")),
    field("Access type", access),
    h("label", { class: "check" }, tls, " Use api-ssl (TLS)"),
    field("Certificate fingerprint", h("span", { class: "row-inline" }, fingerprint, " ", fetchFp), "Leave empty to verify the certificate against the system's trusted authorities; pin it for a self-signed certificate."),
    field("Expected hop count", hops, "How many routers sit between a subscriber's device and this NAS when nothing is shared. Empty: 1 for PPPoE (the customer's own router), 0 for hotspot."),
    field("Tag", tag),
    h("label", { class: "check" }, radius, " Disconnect sessions by RADIUS (needs /radius incoming set accept=yes on the router; otherwise sessions are removed through the API)"),
    radiusFields,
    save,
  ) as HTMLFormElement;

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const value: RouterInput = {
      name: name.value,
      host: host.value,
      port: Number(port.value),
      username: user.value,
      password: password.value || null,
      tls: tls.checked,
      tls_fingerprint: fingerprint.value || null,
      access: access.value as "pppoe" | "hotspot",
      expected_hops: hops.value === "" ? null : Number(hops.value),
      tag: tag.value || null,
      radius_port: radius.checked ? Number(radiusPort.value) : null,
      radius_secret: radius.checked && radiusSecret.value ? radiusSecret.value : null,
    };
    try {
      await api.saveRouter(value);
      password.value = "";
      radiusSecret.value = "";
      await state.refresh();
      await load();
    } catch (e) {
      showError(errorText(e));
    }
  });

  async function test(routerName: string): Promise<void> {
    testResult.className = "test-result";
    testResult.textContent = `Connecting to ${routerName}…`;
    try {
      const r = await api.testRouter(routerName);
      testResult.classList.add("ok");
      tested.add(routerName);
      paintGuide(r.probes_installed > 0 ? routerName : "");
      testResult.textContent = `${routerName}: connected. RouterOS ${r.version} on ${r.board} (${r.identity}); ${count(r.probes_installed, "TTL probe rule")}.${r.warnings.length ? " " + r.warnings.join(" ") : ""}`;
    } catch (e) {
      testResult.textContent = "";
      showError(errorText(e));
    }
  }

  // The probe panel: what is installed, what would be sent, then the change.
  const probePanel = h("div", { class: "probe-panel", hidden: true, "data-testid": "probe-panel" });
  function paintProbes(name: string, r: ProbeReport, remove: boolean): void {
    probePanel.hidden = false;
    const installed = r.state.rules.filter((x) => !x.disabled).length;
    const apply = h("button", { class: remove ? "danger" : "primary", "data-testid": remove ? "probes-remove" : "probes-install" }, remove ? "Remove these rules" : "Install probes") as HTMLButtonElement;
    apply.disabled = r.plan.commands.length === 0;
    apply.addEventListener("click", async () => {
      if (!window.confirm(`Send ${count(r.plan.commands.length, "command")} to ${name}?`)) return;
      try {
        const done = await api.probes(name, remove, true);
        paintProbes(name, done, remove);
        if (!remove) probed.add(name);
        paintGuide("");
      } catch (e) {
        showError(errorText(e));
      }
    });
    clear(probePanel).append(
      h("h2", {}, `TTL probes on ${name}`),
      h("p", {}, r.applied ? "Done. The router now has:" : "", ` ${count(installed, "probe rule")} in force.`),
      ...r.warnings.map((w) => h("p", { class: "warning", "data-testid": "probe-warning" }, w)),
      ...r.plan.notes.map((n) => h("p", { class: "muted" }, n)),
      r.plan.commands.length
        ? h("div", {}, h("p", {}, r.applied ? "Sent:" : remove ? "Removing would send:" : "Installing would send:"), h("pre", { "data-testid": "probe-commands" }, r.plan.commands.join("\n")))
        : h("p", { class: "muted" }, remove ? "Nothing to remove." : "The probes are already in place; nothing to send."),
      ...(r.applied ? [] : [apply]),
      " ",
      h("button", { onclick: () => showProbes(name, !remove) }, remove ? "Back to install" : "Preview removal"),
    );
  }
  async function showProbes(name: string, remove = false): Promise<void> {
    try {
      paintProbes(name, await api.probes(name, remove, false), remove);
    } catch (e) {
      showError(errorText(e));
    }
  }

  // The optional P2P classification, shown in the same panel.
  async function showP2p(name: string, action: "show" | "install" | "remove" = "show"): Promise<void> {
    if (action !== "show" && !window.confirm(`${action === "install" ? "Install" : "Remove"} the P2P classification on ${name}?`)) return;
    try {
      const r = await api.p2pRules(name, action);
      probePanel.hidden = false;
      clear(probePanel).append(
        h("h2", {}, `P2P classification on ${name}`),
        h("p", { "data-testid": "p2p-state" }, r.installed ? "Installed: the abuse monitor reads the router's sg-p2p list." : "Not installed: the monitor finds P2P from the connection table alone."),
        h("p", { class: "muted" }, "Layer-7 matching costs router CPU; it is optional. An address list is used rather than connection marks, so the TTL probes' and QoS marks stay intact."),
        h("p", {}, r.applied ? "Sent:" : "Installing sends:"),
        h("pre", { "data-testid": "p2p-commands" }, r.commands.join("\n")),
        r.installed
          ? h("button", { class: "danger", "data-testid": "p2p-remove", onclick: () => showP2p(name, "remove") }, "Remove")
          : h("button", { class: "primary", "data-testid": "p2p-install", onclick: () => showP2p(name, "install") }, "Install"),
      );
    } catch (e) {
      showError(errorText(e));
    }
  }

  // The first-run guide for a real router.
  const tested = new Set<string>();
  const probed = new Set<string>();
  const guide = h("details", { class: "guide", "data-testid": "setup-guide" });
  let storedNames: string[] = [];
  function paintGuide(withProbes: string): void {
    if (withProbes) probed.add(withProbes);
    const steps: [string, boolean][] = [
      ["Add your router below (address, API user, password).", storedNames.length > 0],
      ["Test the connection.", storedNames.some((n) => tested.has(n))],
      ["Preview the TTL probe rules, then install them (TTL probes…).", storedNames.some((n) => probed.has(n))],
      // Done when a scan reached one of the owner's routers, not the demo's.
      ["Run the first scan.", Boolean(state.status?.last_scan?.nas.some((n) => storedNames.includes(n.nas)))],
    ];
    const allDone = steps.every(([, d]) => d);
    // Open until a real router is set up; folded while only the demo runs.
    guide.toggleAttribute("open", !allDone && !(state.status?.demo_running && storedNames.length === 0));
    const first = storedNames[0];
    clear(guide).append(
      h("summary", {}, allDone ? "Router set up" : "Set up a router in four steps"),
      h("ol", {}, ...steps.map(([t, d]) => h("li", { class: d ? "done" : "" }, d ? `✓ ${t}` : t))),
      ...(first
        ? [h("button", {
            class: "primary",
            "data-testid": "guide-scan",
            onclick: async () => {
              try {
                await api.scan({ router: first });
                navigate("sharing");
              } catch (e) {
                showError(errorText(e));
              }
            },
          }, `Scan ${first} now`)]
        : []),
    );
  }

  async function load(): Promise<void> {
    const [stored, keyring] = await Promise.all([api.listRouters(), api.keyringStatus()]);
    storedNames = stored.map((r) => r.name);
    paintGuide("");
    keyringNote.hidden = !keyring;
    keyringNote.textContent = keyring ?? "";
    save.toggleAttribute("disabled", Boolean(keyring));
    clear(list);
    for (const r of state.status?.routers.filter((x) => x.demo) ?? []) {
      list.append(
        h("tr", { "data-router": r.name }, h("td", {}, r.name, " ", h("span", { class: "demo-tag" }, "DEMO")), h("td", {}, r.address), h("td", {}, r.access), h("td", {}, "simulated"),
          h("td", {}, h("button", { onclick: () => test(r.name) }, "Test connection"), " ", h("button", { onclick: () => showProbes(r.name) }, "TTL probes…"), " ", h("button", { "data-testid": "router-p2p", onclick: () => showP2p(r.name) }, "P2P rules…"))),
      );
    }
    if (!list.children.length && !stored.length) {
      list.append(
        h("tr", { "data-testid": "routers-empty" }, h("td", { colspan: "5", class: "muted" },
          state.status?.demo_results
            ? "No routers yet. Add yours below, or restart the demo from the note at the top."
            : "No routers yet. Add yours below: the four steps above walk you through it.")),
      );
    }
    for (const r of stored) {
      list.append(
        h(
          "tr",
          { "data-router": r.name },
          h("td", {}, r.name, r.tag ? h("span", { class: "muted" }, ` · ${r.tag}`) : null),
          h("td", {}, `${r.host}:${r.port}${r.tls ? " (api-ssl)" : ""}`),
          h("td", {}, r.access),
          h("td", {}, r.has_password ? "password in keyring" : "no password stored", r.radius_port ? ` · RADIUS ${r.radius_port}${r.has_radius_secret ? "" : " (no secret stored)"}` : ""),
          h(
            "td",
            {},
            h("button", { "data-testid": "router-test", onclick: () => test(r.name) }, "Test connection"),
            " ",
            h("button", { "data-testid": "router-probes", onclick: () => showProbes(r.name) }, "TTL probes…"),
            " ",
            h("button", { "data-testid": "router-p2p", onclick: () => showP2p(r.name) }, "P2P rules…"),
            " ",
            h("button", {
              onclick: async () => {
                if (!window.confirm(`Remove ${r.name} and its stored password?`)) return;
                try {
                  await api.removeRouter(r.name);
                  await state.refresh();
                  await load();
                } catch (e) {
                  showError(errorText(e));
                }
              },
            }, "Remove"),
          ),
        ),
      );
    }
  }
  load().catch((e) => showError(errorText(e)));

  return h(
    "section",
    { class: "view routers" },
    h("h1", {}, "Routers"),
    guide,
    keyringNote,
    h("table", { class: "plain", "data-testid": "router-list" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Address"), h("th", {}, "Access"), h("th", {}, "Credentials"), h("th", {}, ""))), list),
    testResult,
    probePanel,
    form,
  );
}
