// Throttle, ban and limit as the owner takes them by hand, from the abuse
// monitor's warnings or a subscriber's page: ask why, show a router rule
// before installing it, and describe what was done in one sentence.
import { count, when } from "../dom";
import { api, type CommandError, type PenaltyReport } from "../api";

export type PenaltyKind = "throttle" | "ban" | "limit";

const VERB: Record<PenaltyKind, string> = { throttle: "Throttle", ban: "Ban", limit: "Limit" };

export function penaltySummary(r: PenaltyReport): string {
  switch (r.kind) {
    case "throttle":
      return `${r.report.subscriber} throttled to ${r.report.rate} (plan ${r.report.plan}) via ${r.report.method} until ${when(r.expires_at)}.${r.report.note ? ` ${r.report.note}` : ""}`;
    case "ban":
      return `${r.report.subscriber} (${r.report.address}) banned for ${r.report.minutes} min, until ${when(r.expires_at)}.`;
    case "limit": {
      const ended = r.report.ended_sessions.length;
      return `${r.report.subscriber} (${r.report.address}) limited to ${r.report.cap} ${r.report.unit} until ${when(r.expires_at)}.${ended ? ` ${count(ended, "extra session")} ended.` : ""}`;
    }
  }
}

/** The rules to install, when a missing rule is why the step was refused. */
function missingRule(e: unknown): string | null {
  const err = e as CommandError | null;
  return err && err.kind === "rule_missing" && err.rules?.length ? err.rules.join("\n") : null;
}

/**
 * Asks for a reason and takes the step. Returns the report, or null when the
 * owner cancelled. A ban or PPPoE limit whose firewall rule is missing shows
 * the rule and installs it only after the owner agrees.
 */
export async function penalize(
  kind: PenaltyKind,
  subscriber: string,
  nas: string,
  defaults: { reason: string; minutes?: number },
): Promise<PenaltyReport | null> {
  const reason = window.prompt(`Why ${VERB[kind].toLowerCase()} ${subscriber}? (kept in the audit log)`, defaults.reason);
  if (reason === null) return null;
  const input = { subscriber, reason, minutes: defaults.minutes };
  const call = kind === "throttle" ? api.throttle : kind === "ban" ? api.ban : api.limit;
  try {
    return await call(input);
  } catch (e) {
    const rule = missingRule(e);
    if (rule === null) throw e;
    const what = kind === "ban" ? "Bans need one filter rule" : "Connection limits need these filter rules";
    if (!window.confirm(`${what} on ${nas}. Install now?\n\n${rule}`)) return null;
    return call({ ...input, install_rule: true });
  }
}
