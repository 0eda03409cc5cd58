// Routers: the demo routers, the owner's own, and the form to add one.
// Passwords go to the operating system's keyring, never to the database.
import { h, clear } from "../dom";
import { api, errorText, type RouterInput } from "../api";
import { state } from "../state";

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
    field("Certificate fingerprint", fingerprint, "Leave empty to verify the certificate against the system's trusted authorities."),
    field("Tag", tag),
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
      expected_hops: null,
      tag: tag.value || null,
    };
    try {
      await api.saveRouter(value);
      password.value = "";
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
      testResult.textContent = `${routerName}: connected. RouterOS ${r.version} on ${r.board} (${r.identity}); ${r.probes_installed} TTL probe rule(s).${r.warnings.length ? " " + r.warnings.join(" ") : ""}`;
    } catch (e) {
      testResult.textContent = "";
      showError(errorText(e));
    }
  }

  async function load(): Promise<void> {
    const [stored, keyring] = await Promise.all([api.listRouters(), api.keyringStatus()]);
    keyringNote.hidden = !keyring;
    keyringNote.textContent = keyring ?? "";
    save.toggleAttribute("disabled", Boolean(keyring));
    clear(list);
    for (const r of state.status?.routers.filter((x) => x.demo) ?? []) {
      list.append(
        h("tr", { "data-router": r.name }, h("td", {}, r.name, " ", h("span", { class: "demo-tag" }, "DEMO")), h("td", {}, r.address), h("td", {}, r.access), h("td", {}, "simulated"),
          h("td", {}, h("button", { onclick: () => test(r.name) }, "Test connection"))),
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
          h("td", {}, r.has_password ? "password in keyring" : "no password stored"),
          h(
            "td",
            {},
            h("button", { "data-testid": "router-test", onclick: () => test(r.name) }, "Test connection"),
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
    keyringNote,
    h("table", { class: "plain", "data-testid": "router-list" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Address"), h("th", {}, "Access"), h("th", {}, "Credentials"), h("th", {}, ""))), list),
    testResult,
    form,
  );
}
