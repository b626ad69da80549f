/**
 * The names the API document (OpenAPI, the CLI's --json) gives the core's schemas: a client
 * generated from it depends on them, so a rename is a breaking change a test must notice.
 */
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { BackendsView } from "../../src/core/backend-status.js";
import { Check } from "../../src/core/check.js";
import { ClusterDocument, ClusterSettings } from "../../src/core/cluster.js";
import { Change } from "../../src/core/diff.js";
import { Event } from "../../src/core/event.js";
import { HealthReport } from "../../src/core/health.js";
import { Holding } from "../../src/core/history-periods.js";
import { LeaseView } from "../../src/core/lease-view.js";
import { Node, NodeStatus, NodeView } from "../../src/core/node.js";
import { SyncGroup, VipGroup } from "../../src/core/vip-group.js";
import { RealServer, VirtualService } from "../../src/core/virtual-service.js";

describe("the schemas' names in the API document", () => {
  it.each<[string, z.ZodType]>([
    ["BackendsView", BackendsView],
    ["Check", Check],
    ["Cluster", ClusterSettings],
    ["ClusterDocument", ClusterDocument],
    ["Change", Change],
    ["Event", Event],
    ["HealthReport", HealthReport],
    ["Holding", Holding],
    ["LeaseView", LeaseView],
    ["Node", Node],
    ["NodeStatus", NodeStatus],
    ["NodeView", NodeView],
    ["VipGroup", VipGroup],
    ["SyncGroup", SyncGroup],
    ["RealServer", RealServer],
    ["VirtualService", VirtualService],
  ])("%s", (id, schema) => {
    expect(z.globalRegistry.get(schema)?.id).toBe(id);
  });

  it("describes the two that need words", () => {
    expect(z.globalRegistry.get(Check)?.description).toBe(
      "What is probed and how; a real server or VIP group refers to it by name.",
    );
    expect(z.globalRegistry.get(ClusterDocument)?.description).toBe(
      "A whole cluster: nodes, checks, VIP groups and virtual services.",
    );
  });
});
