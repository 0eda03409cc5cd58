// Moving between screens from inside a screen, without importing the shell.
export type Screen = "dashboard" | "sharing" | "abuse" | "routers" | "whitelist" | "audit" | "operators" | "subscriber";

let go: (screen: Screen, subject?: string) => void = () => {};

export function setNavigator(f: (screen: Screen, subject?: string) => void): void {
  go = f;
}

export function navigate(screen: Screen, subject?: string): void {
  go(screen, subject);
}
