// Where notifications go besides the desktop: a JSON webhook and a Telegram
// bot. The bot token is sent to the keyring once and never shown again.
import { h, clear } from "../dom";
import { api, errorText } from "../api";

export function notificationsPanel(showError: (m: string) => void): HTMLElement {
  const box = h("details", { class: "panel", "data-testid": "notifications-panel" }, h("summary", {}, "Notifications (webhook, Telegram)"));
  const body = h("div", { class: "grid" });
  const result = h("div", { "data-testid": "webhooks-result" });
  box.append(body, result);

  const load = async () => {
    const s = await api.webhookSettings();
    const url = h("input", { type: "url", placeholder: "https://hooks.example.com/…", value: s.config.generic?.url ?? "", "data-testid": "webhook-url" }) as HTMLInputElement;
    const chat = h("input", { placeholder: "Chat id, e.g. -1001234567890 or @channel", value: s.config.telegram?.chat_id ?? "", "data-testid": "telegram-chat" }) as HTMLInputElement;
    const token = h("input", {
      type: "password",
      autocomplete: "off",
      placeholder: s.has_telegram_token ? "stored in the keyring (enter a new one to replace it)" : "Bot token from BotFather",
      "data-testid": "telegram-token",
      disabled: Boolean(s.keyring),
    }) as HTMLInputElement;
    const say = (lines: { ok: boolean; message: string }[]) =>
      clear(result).append(...lines.map((l) => h("p", { class: l.ok ? "notice" : "warning" }, l.message)));
    clear(body).append(
      h("label", {}, "Webhook (JSON POST)", url),
      h("label", {}, "Telegram chat", chat),
      h("label", {}, "Telegram bot token", token),
      ...(s.keyring ? [h("p", { class: "warning small" }, `Telegram needs the system keyring for its token: ${s.keyring}`)] : []),
      h("p", { class: "small muted" }, "The same events as the desktop notification are sent: newly flagged subscribers, abuse that calls for a throttle or ban, actions taken, a tripped breaker. Leave a field empty to turn that channel off."),
      h("div", { class: "actions" },
        h("button", {
          "data-testid": "webhooks-save",
          onclick: async () => {
            try {
              const config = {
                generic: url.value.trim() ? { url: url.value.trim() } : null,
                telegram: chat.value.trim() ? { chat_id: chat.value.trim() } : null,
              };
              await api.saveWebhooks(config, token.value.trim() || null);
              say([{ ok: true, message: "Notification settings saved." }]);
              await load();
            } catch (e) {
              showError(errorText(e));
            }
          },
        }, "Save"),
        " ",
        h("button", {
          "data-testid": "webhooks-test",
          onclick: async () => {
            try {
              say(await api.testWebhooks());
            } catch (e) {
              showError(errorText(e));
            }
          },
        }, "Send a test"),
      ),
    );
  };
  load().catch((e) => showError(errorText(e)));
  return box;
}
