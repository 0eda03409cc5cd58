// One subscriber: the verdict and its reasons, the TTL histogram with the
// values a legitimate device would show marked, connection and verdict
// history, whitelist state and audit entries.
import { h, clear, when, thousands } from "../dom";
import { api, errorText, type SubscriberDetail } from "../api";
import { navigate } from "../nav";
import { onThemeChange, svgChart, theme } from "./charts";
import { penalize, penaltySummary, type PenaltyKind } from "./penalty";
import { recommendedWords, ttlStatusWords } from "../words";
import { exportButtons } from "./export";

/** Disconnect, throttle, limit and ban for this subscriber, on the router a scan last saw them on. */
function actions(d: SubscriberDetail, showError: (m: string) => void): HTMLElement {
  const r = d.result!;
  const message = h("p", { class: "notice", "data-testid": "subscriber-message", hidden: true });
  const done = (text: string) => {
    message.textContent = text;
    message.hidden = false;
  };
  const step = (kind: PenaltyKind) => async () => {
    try {
      const report = await penalize(kind, r.subscriber, r.nas, { reason: r.reasons[0] ?? "", minutes: kind === "limit" ? undefined : 30 });
      if (report) done(penaltySummary(report));
    } catch (e) {
      showError(errorText(e));
    }
  };
  const disconnect = async () => {
    const reason = window.prompt(`Why disconnect ${r.subscriber}? (kept in the audit log)`, r.reasons[0] ?? "");
    if (reason === null) return;
    try {
      const x = await api.disconnect(r.subscriber, reason);
      done(`${x.subscriber} disconnected via ${x.method}.${x.note ? ` ${x.note}` : ""}`);
    } catch (e) {
      showError(errorText(e));
    }
  };
  const disabled = d.whitelist ? { disabled: true, title: "Whitelisted subscribers are never acted on" } : {};
  return h(
    "div",
    { class: "row-actions", "data-testid": "subscriber-actions" },
    h("button", { "data-testid": "action-throttle", onclick: step("throttle"), ...disabled }, "Throttle"),
    h("button", { "data-testid": "action-limit", onclick: step("limit"), ...disabled }, "Limit"),
    h("button", { class: "danger", "data-testid": "action-ban", onclick: step("ban"), ...disabled }, "Ban"),
    h("button", { class: "danger", "data-testid": "action-disconnect", onclick: disconnect, ...disabled }, "Disconnect"),
    message,
  );
}

/** The TTL histogram (expected values marked) and connections per scan, drawn by the backend. */
function charts(name: string, showError: (m: string) => void): HTMLElement {
  const box = h("div", { class: "charts", "data-testid": "subscriber-charts" });
  const paint = () =>
    api
      .subscriberCharts(name, theme())
      .then((c) =>
        clear(box).append(
          h("div", {}, h("h2", {}, "TTL values seen"), svgChart(c.ttl, `TTL values of ${name}`, "ttl-histogram")),
          h("div", {}, h("h2", {}, "Connections per scan"), svgChart(c.connections, `Connections of ${name} per scan`, "connection-history")),
        ),
      )
      .catch((e) => showError(errorText(e)));
  paint();
  onThemeChange(box, paint);
  return box;
}

const SOURCE_WORDS: Record<string, string> = {
  router: "the router's setting",
  owner: "set by the owner",
  caller_id: "from the caller-id's maker",
  history: "learned from earlier scans",
};

/** The distance the last verdict used and the owner's own setting for this line. */
function distance(d: SubscriberDetail, name: string, showError: (m: string) => void, reload: () => void): HTMLElement {
  const used = d.result?.evidence.distance ?? null;
  const choice = h(
    "select",
    { "data-testid": "distance-hops", "aria-label": "Distance of this line" },
    h("option", { value: "" }, "Router's setting (and what scans learn)"),
    h("option", { value: "0" }, "0 hops: a PC dials through a bridged modem"),
    h("option", { value: "1" }, "1 hop: a home router"),
    h("option", { value: "2" }, "2 hops: a router behind the ISP's router (mesh)"),
    h("option", { value: "3" }, "3 hops"),
  ) as HTMLSelectElement;
  choice.value = d.distance ? String(d.distance.hops) : "";
  const note = h("input", { type: "text", maxlength: "500", placeholder: "Why (kept in the audit log)", "data-testid": "distance-note", value: d.distance?.note ?? "" }) as HTMLInputElement;
  const save = async () => {
    try {
      await api.setLineDistance(name, choice.value === "" ? null : Number(choice.value), note.value);
      reload();
    } catch (e) {
      showError(errorText(e));
    }
  };
  return h(
    "div",
    { class: "line-distance", "data-testid": "line-distance" },
    h("p", { "data-testid": "distance-used" }, used ? `Last verdict read the TTLs at ${used.hops} ${used.hops === 1 ? "hop" : "hops"} (${SOURCE_WORDS[used.source] ?? used.source}). ${used.why}` : "No verdict yet."),
    d.distance
      ? h("p", { class: "muted" }, `Set to ${d.distance.hops} by ${d.distance.set_by} on ${when(d.distance.set_at)}${d.distance.note ? `: ${d.distance.note}` : ""}. Scans from now on use it.`)
      : h("p", { class: "muted" }, "Not set for this line: scans use the router's setting, the caller-id's maker and the line's history."),
    h("div", { class: "row-inline" }, choice, note, h("button", { "data-testid": "distance-save", onclick: save }, "Save")),
  );
}

export function subscriberView(name: string, showError: (m: string) => void): HTMLElement {
  const root = h("section", { class: "view subscriber", "data-testid": "subscriber-page" },
    h("button", { class: "link", onclick: () => navigate("sharing") }, "← Sharing detection"),
    h("header", { class: "toolbar" }, h("h1", {}, name), exportButtons(() => ({ kind: "subscriber", name }), ["pdf", "csv"], showError)),
  );
  api
    .subscriberDetail(name)
    .then((d) => {
      const r = d.result;
      if (r) {
        root.append(
          h("p", { class: "muted" }, `${r.address} on ${r.nas} (${r.access}) · last scanned ${when(r.scanned_at)}`),
          h("p", {}, h("span", { class: `badge ${r.level}` }, r.level), " ", ttlStatusWords(r.ttl_status), " · recommended: ", recommendedWords(r.recommended_action)),
          h("h2", {}, "Why"),
          h("ul", { class: "reasons" }, ...r.reasons.map((x) => h("li", {}, x))),
          h("h2", {}, "Actions"),
          actions(d, showError),
        );
      }
      root.append(
        charts(name, showError),
        h("h2", {}, "Line distance"),
        distance(d, name, showError, () => root.replaceWith(subscriberView(name, showError))),
        h("h2", {}, "Whitelist"),
        h("p", {}, d.whitelist ? `Whitelisted by ${d.whitelist.added_by} on ${when(d.whitelist.added_at)}: ${d.whitelist.reason}${d.whitelist.expires_at ? ` (until ${when(d.whitelist.expires_at)})` : ""}` : "Not whitelisted."),
        h("h2", {}, "History"),
        h(
          "table",
          { class: "plain", "data-testid": "subscriber-history" },
          h("thead", {}, h("tr", {}, h("th", {}, "Scanned"), h("th", {}, "Router"), h("th", {}, "Level"), h("th", {}, "TTL status"), h("th", {}, "Connections"), h("th", {}, "TTL values"))),
          h("tbody", {}, ...d.history.map((e) =>
            h("tr", {}, h("td", {}, when(e.scanned_at)), h("td", {}, e.nas), h("td", {}, h("span", { class: `badge ${e.level}` }, e.whitelisted ? "whitelisted" : e.level)),
              h("td", {}, ttlStatusWords(e.ttl_status)), h("td", {}, thousands(e.connections)), h("td", {}, e.ttl_values.join(", "))))),
        ),
        h("h2", {}, "Audit"),
        d.audit.length
          ? h("table", { class: "plain" }, h("tbody", {}, ...d.audit.map((a) => h("tr", {}, h("td", {}, when(a.at)), h("td", {}, a.operator), h("td", {}, a.action.replace(/_/g, " "))))))
          : h("p", { class: "muted" }, "Nothing recorded."),
      );
    })
    .catch((e) => showError(errorText(e)));
  return root;
}
