/**
 * Where `vigil login` keeps the control plane's URL and token: $XDG_CONFIG_HOME/vigil/cli.json
 * (default ~/.config), the folder 0700 and the file 0600. Flags and VIGIL_URL / VIGIL_TOKEN
 * take precedence.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

export interface Settings {
  url: string;
  token: string;
}

export function settingsPath(env = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || homedir(), ".config");
  return path.join(base, "vigil", "cli.json");
}

export function loadSettings(file = settingsPath()): Partial<Settings> {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8"));
    return { url: parsed.url, token: parsed.token };
  } catch {
    return {};
  }
}

export function saveSettings(settings: Settings, file = settingsPath()): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}
