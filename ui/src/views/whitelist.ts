// The whitelist: who is excused, why, by whom and until when.
import { h, clear, count as counted, when } from "../dom";
import { api, errorText } from "../api";
import { navigate } from "../nav";

export function whitelistView(showError: (m: string) => void): HTMLElement {
  const body = h("tbody");
  const search = h("input", { type: "search", placeholder: "Filter by subscriber, reason or operator", "aria-label": "Filter" }) as HTMLInputElement;
  const expired = h("input", { type: "checkbox" }) as HTMLInputElement;
  const count = h("span", { class: "muted" });

  async function load(): Promise<void> {
    const q = search.value.trim().toLowerCase();
    const entries = (await api.whitelistList(expired.checked)).filter(
      (e) => !q || e.subscriber.toLowerCase().includes(q) || e.reason.toLowerCase().includes(q) || e.added_by.toLowerCase().includes(q),
    );
    count.textContent = counted(entries.length, "subscriber");
    if (!entries.length) {
      clear(body).append(
        h("tr", { "data-testid": "whitelist-empty" }, h("td", { colspan: "6", class: "muted" },
          q
            ? "No entry matches this filter."
            : "No one is whitelisted. To excuse a subscriber (a business line, a family checked by phone), open their line on Sharing detection and press Whitelist with the reason.")),
      );
      return;
    }
    clear(body).append(
      ...entries.map((e) =>
        h(
          "tr",
          { "data-subscriber": e.subscriber },
          h("td", {}, h("button", { class: "link", onclick: () => navigate("subscriber", e.subscriber) }, e.subscriber)),
          h("td", {}, e.reason),
          h("td", {}, e.added_by),
          h("td", {}, when(e.added_at)),
          h("td", {}, e.expires_at ? when(e.expires_at) : "never"),
          h(
            "td",
            {},
            h("button", {
              onclick: async () => {
                try {
                  await api.whitelistRemove(e.subscriber);
                  await load();
                } catch (err) {
                  showError(errorText(err));
                }
              },
            }, "Remove"),
          ),
        ),
      ),
    );
  }
  search.addEventListener("input", () => void load().catch((e) => showError(errorText(e))));
  expired.addEventListener("change", () => void load().catch((e) => showError(errorText(e))));
  load().catch((e) => showError(errorText(e)));
  return h(
    "section",
    { class: "view" },
    h("h1", {}, "Whitelist"),
    h("p", { class: "muted" }, "Whitelisted subscribers are still scanned and recorded, but never flagged. Removing one takes effect at the next scan."),
    h("div", { class: "filters" }, search, h("label", { class: "check" }, expired, " Show expired"), count),
    h(
      "table",
      { class: "plain", "data-testid": "whitelist-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Subscriber"), h("th", {}, "Reason"), h("th", {}, "By"), h("th", {}, "Since"), h("th", {}, "Until"), h("th", {}, ""))),
      body,
    ),
  );
}
