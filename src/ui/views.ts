/** The dashboard's per-cluster views, in the order the navigation shows them: path segment -> title. */
export const VIEWS = {
  health: "Health",
  "vip-groups": "VIP groups",
  services: "Virtual services",
  timeline: "Timeline",
} as const;
export type View = keyof typeof VIEWS;
export const isView = (v: string): v is View => Object.hasOwn(VIEWS, v);
