// Operator profiles (owner only): the owner's PIN, staff profiles with what
// each may do, and removal. With no staff profile nobody is asked for a PIN.
import { h, clear, when } from "../dom";
import { api, errorText, PERMISSIONS, type Permission } from "../api";
import { state } from "../state";
import { navigate } from "../nav";

export function operatorsView(showError: (m: string) => void): HTMLElement {
  const list = h("tbody");
  const name = h("input", { name: "name", maxlength: 32, placeholder: "Technician", "data-testid": "operator-name" }) as HTMLInputElement;
  const pin = h("input", { name: "pin", type: "password", inputmode: "numeric", maxlength: 12, autocomplete: "new-password", "data-testid": "operator-pin" }) as HTMLInputElement;
  const boxes = PERMISSIONS.map((p) => {
    const box = h("input", { type: "checkbox", value: p.key, "data-permission": p.key }) as HTMLInputElement;
    box.checked = p.key === "view";
    return { p, box };
  });
  const ownerPin = h("input", { type: "password", inputmode: "numeric", maxlength: 12, autocomplete: "new-password", "data-testid": "owner-pin" }) as HTMLInputElement;

  async function load(): Promise<void> {
    const ops = await api.listOperators();
    clear(list).append(
      ...ops.map((o) =>
        h(
          "tr",
          { "data-operator": o.name },
          h("td", {}, o.name),
          h("td", {}, o.name === "owner" ? "everything" : o.permissions.join(", ")),
          h("td", {}, when(o.updated_at)),
          h(
            "td",
            {},
            h("button", {
              onclick: async () => {
                if (!window.confirm(`Remove the profile ${o.name}?`)) return;
                try {
                  await api.removeOperator(o.name);
                  await state.refresh();
                  navigate("operators");
                } catch (e) {
                  showError(errorText(e));
                }
              },
            }, "Remove"),
          ),
        ),
      ),
    );
  }

  const setOwner = h("button", { "data-testid": "owner-pin-save" }, "Set owner PIN") as HTMLButtonElement;
  setOwner.addEventListener("click", async () => {
    try {
      await api.saveOperator("owner", ownerPin.value, []);
      ownerPin.value = "";
      await load();
    } catch (e) {
      showError(errorText(e));
    }
  });
  const form = h(
    "form",
    { class: "router-form", "data-testid": "operator-form" },
    h("h2", {}, "Add or change a staff profile"),
    h("label", { class: "field" }, h("span", {}, "Name"), name),
    h("label", { class: "field" }, h("span", {}, "PIN (4 to 12 digits; empty keeps the current PIN)"), pin),
    ...boxes.map(({ p, box }) => h("label", { class: "check" }, box, ` ${p.label}`)),
    h("button", { class: "primary", type: "submit", "data-testid": "operator-save" }, "Save profile"),
  ) as HTMLFormElement;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const permissions = boxes.filter((b) => b.box.checked).map((b) => b.p.key as Permission);
    try {
      await api.saveOperator(name.value, pin.value || null, permissions);
      pin.value = "";
      await state.refresh();
      navigate("operators");
    } catch (e) {
      showError(errorText(e));
    }
  });
  load().catch((e) => showError(errorText(e)));

  return h(
    "section",
    { class: "view operators" },
    h("h1", {}, "Operators"),
    h("p", { class: "muted" }, "Staff profiles let a technician or cashier use ShareGuard with only the permissions you give them; the audit log names who did what. Once a staff profile exists, ShareGuard asks who is using it when it starts. Set your own PIN first."),
    h("div", { class: "toolbar" }, h("label", { class: "field" }, h("span", {}, "Owner PIN"), ownerPin), setOwner),
    h("table", { class: "plain", "data-testid": "operator-list" }, h("thead", {}, h("tr", {}, h("th", {}, "Profile"), h("th", {}, "May"), h("th", {}, "Changed"), h("th", {}, ""))), list),
    form,
  );
}

/** Who is using ShareGuard: pick a profile, type its PIN. */
export function lockScreen(onUnlocked: () => void, showError: (m: string) => void): HTMLElement {
  let chosen = "";
  const pin = h("input", { type: "password", inputmode: "numeric", maxlength: 12, "aria-label": "PIN", "data-testid": "lock-pin" }) as HTMLInputElement;
  const buttons = (state.status?.profiles ?? []).map((p) => {
    const b = h("button", { "data-profile": p }, p) as HTMLButtonElement;
    b.addEventListener("click", () => {
      chosen = p;
      buttons.forEach((x) => x.classList.toggle("active", x === b));
      pin.focus();
    });
    return b;
  });
  const go = h("button", { class: "primary", type: "submit", "data-testid": "lock-unlock" }, "Unlock");
  const form = h("form", {}, pin, " ", go) as HTMLFormElement;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!chosen) return showError("Choose your profile first.");
    try {
      await api.switchOperator(chosen, pin.value);
      pin.value = "";
      onUnlocked();
    } catch (e) {
      pin.value = "";
      showError(errorText(e));
    }
  });
  return h(
    "section",
    { class: "view lock", "data-testid": "lock-screen" },
    h("h1", {}, "Who is using ShareGuard?"),
    h("div", { class: "profiles" }, ...buttons),
    form,
    h("p", { class: "muted small" }, "Scheduled scans keep running while ShareGuard is locked."),
  );
}
