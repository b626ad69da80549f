/** Reading events. Events are written by the system (coordinator, agents, delivery), never through the API. */
import { and, desc, eq, gte, lt } from "drizzle-orm";
import { z } from "zod";
import { Event, EventQuery } from "../../core/event.js";
import * as t from "../../storage/schema.js";
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
      const rows = await db
        .select()
        .from(t.events)
        .where(
          and(
            eq(t.events.cluster, cluster),
            query.type ? eq(t.events.type, query.type) : undefined,
            query.subject ? eq(t.events.subject, query.subject) : undefined,
            query.target ? eq(t.events.subject, query.target) : undefined,
            query.after ? gte(t.events.at, new Date(query.after).toISOString()) : undefined,
            query.before ? lt(t.events.at, new Date(query.before).toISOString()) : undefined,
          ),
        )
        .orderBy(desc(t.events.at), desc(t.events.id))
        .limit(query.limit);
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
      const [row] = await c
        .get("db")
        .select()
        .from(t.events)
        .where(and(eq(t.events.cluster, param(c, "cluster")), eq(t.events.id, param(c, "id"))));
      if (!row) throw new ApiError("not_found", `no event with id ${param(c, "id")} in cluster ${param(c, "cluster")}`);
      return c.json(row);
    },
  );
}
