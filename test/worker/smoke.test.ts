import { describe, expect, it } from "vitest";
import { api } from "./http.js";

describe("smoke", () => {
  it("creates and lists a cluster", async () => {
    const created = await api("POST", "/v1/clusters", { body: { name: "c1" } });
    expect(created.status).toBe(201);
    const list = await api("GET", "/v1/clusters");
    expect(list.body.map((c: { name: string }) => c.name)).toContain("c1");
  });
});
