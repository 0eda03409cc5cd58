// A tiny element builder: enough structure for a few screens without a framework.

type Attrs = Record<string, string | number | boolean | ((ev: Event) => void) | undefined>;

export function h(tag: string, attrs: Attrs = {}, ...children: (Node | string | null | undefined)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") {
      el.addEventListener(k.replace(/^on/, "").toLowerCase(), v as EventListener);
    } else if (k === "class") {
      el.className = String(v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    el.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return el;
}

export function clear(el: HTMLElement): HTMLElement {
  el.replaceChildren();
  return el;
}

/** `n` and the noun, singular for one, with thousands separators:
 *  `count(1, "rule")` is "1 rule", `count(23176, "row")` "23,176 rows". */
/** Numbers with thousands separators in the desktop's language. Where the
 *  web view reports a locale without grouping (WebKitGTK under a "C" or
 *  POSIX locale gives "1299"), English grouping is used instead, so counts
 *  read like the charts' axes. */
const NUMBERS = (() => {
  const own = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  return own.format(12345).length > 5 ? own : new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
})();

export function thousands(n: number): string {
  return NUMBERS.format(n);
}

export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${thousands(n)} ${n === 1 ? noun : plural}`;
}

/** A moment in one short local form that never wraps: "today 16:36",
 *  "yesterday 09:05", "6 Dec 16:36", or with the year when it is not this
 *  one. The full date and time are in `whenFull` for a hover title. */
export function when(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "–";
  const time = d.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
  const day = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const days = Math.round((day(now) - day(d)) / 86_400_000);
  let text: string;
  if (days === 0) text = `today ${time}`;
  else if (days === 1) text = `yesterday ${time}`;
  else if (d.getFullYear() === now.getFullYear()) text = `${d.toLocaleDateString(undefined, { day: "numeric", month: "short" })} ${time}`;
  else text = `${d.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" })} ${time}`;
  return text.replace(/ /g, "\u00a0");
}

export function whenFull(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "full", timeStyle: "medium" }) : "";
}

/** A short message in the corner of the window that goes away by itself
 * (or with its close button), so news such as "Saved …" never changes the
 * layout of the screen it came from. At most three at a time. */
export function toast(message: string, testid = "toast"): HTMLElement {
  let tray = document.getElementById("toasts");
  if (!tray) {
    tray = h("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(tray);
  }
  while (tray.children.length >= 3) tray.firstElementChild?.remove();
  const note = h("div", { class: "toast", "data-testid": testid }, h("span", {}, message));
  const close = h("button", { class: "close", "aria-label": "Dismiss", onclick: () => note.remove() }, "×");
  note.append(close);
  tray.append(note);
  setTimeout(() => note.remove(), 10_000);
  return note;
}
