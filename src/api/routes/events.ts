/** Reading events. Events are written by the system (coordinator, agents, delivery), never through the API. */
import * as z from "zod";
import { Event, EventQuery } from "../../core/event.js";
import { getEvent, listEvents } from "../../storage/events.js";
import { loadCluster } from "../cluster-ops.js";
import { param } from "../context.js";
import { ApiError } from "../errors.js";
import type { Router } from "../router.js";

export function registerEvents(router: Router): void {
  router.add(
    {
      method: "get",
      path: "/v1/clusters/:cluster/events",
      operationId: "listEvents",
      summary: "List a cluster's events, newest first",
      tag: "events",
      role: "read",
      query: EventQuery,
      response: z.array(Event),
    },
    async (c, { query }) => {
      const db = c.get("db");
      const cluster = param(c, "cluster");
      await loadCluster(db, cluster);
      const rows = await listEvents(db, cluster, query);
      return c.json(rows);
    },
  );

  router.add(
    {
      method: "get",
      path: "/v1/clusters/:cluster/events/:id",
      operationId: "getEvent",
      summary: "Get one event",
      tag: "events",
      role: "read",
      response: Event,
    },
    async (c) => {
      const row = await getEvent(c.get("db"), param(c, "cluster"), param(c, "id"));
      if (!row) throw new ApiError("not_found", `no event with id ${param(c, "id")} in cluster ${param(c, "cluster")}`);
      return c.json(row);
    },
  );
}
