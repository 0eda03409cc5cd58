// The backend's stable identifiers (ttl_status, recommended_action, …) in the
// words an owner reads. Unknown values fall back to their own text without
// underscores, so a newer backend never shows an empty cell.

const TTL_STATUS: Record<string, string> = {
  normal: "normal",
  multiple_os: "several devices",
  router_detected: "second router",
  double_router: "two routers",
  ttl_rewritten: "TTL rewritten",
};

const RECOMMENDED: Record<string, string> = {
  none: "nothing to do",
  gather_evidence: "gather more evidence",
  watch: "watch",
  review: "review",
  contact_subscriber: "contact the subscriber",
  disconnect: "disconnect",
};

const plain = (s: string) => s.replace(/_/g, " ");

export const ttlStatusWords = (s: string): string => TTL_STATUS[s] ?? plain(s);

export const recommendedWords = (s: string): string => RECOMMENDED[s] ?? plain(s);

/** A warning's action and note as one phrase, without saying the action
 * twice when the note starts with it ("recommended: recommended throttle…"). */
export function warningActionWords(action: string, note: string | null | undefined): string {
  if (action === "none") return "";
  const word = plain(action);
  if (!note) return word;
  return note.toLowerCase().startsWith(word.toLowerCase()) ? note : `${word}: ${note}`;
}
