/** A node: one load balancer host running vigil-agent (keepalived's director). */
import * as z from "zod";
import { Ident, IpAddress, Labels, Port } from "./primitives.js";
import { DEFAULT_PEER_PORT, HOST_ACTIONS } from "./vocabulary.js";

export const Node = z
  .strictObject({
    name: Ident,
    /** The address the node is reached at on its LAN; shown to operators, used by agent checks. */
    address: IpAddress,
    /** The UDP port its agent listens on for its peer directors' lease messages (agent config `peerPort`). */
    peerPort: Port.default(DEFAULT_PEER_PORT),
    labels: Labels,
  })
  .meta({ id: "Node" });
export type Node = z.infer<typeof Node>;

/** What the control plane knows about a node's agent; set by enrollment and the channel, never by config. */
export const NodeStatus = z
  .object({
    enrolled: z.boolean(),
    enrolledAt: z.string().nullable(),
    /** Ed25519 public key, base64, registered at enrollment. */
    agentPublicKey: z.string().nullable(),
    online: z.boolean(),
    lastSeenAt: z.string().nullable(),
    /**
     * How far the agent's clock was ahead of the control plane's at its last hello (negative:
     * behind), or null before one. Beyond CLOCK_SKEW_MS the agent refuses commands.
     */
    clockOffsetMs: z.number().int().nullable(),
    /** The agent's hostActions: "show" logs VIP and IPVS changes without making them, "show-backends" the IPVS ones only. */
    hostActions: z.enum(HOST_ACTIONS),
  })
  .meta({ id: "NodeStatus" });
export type NodeStatus = z.infer<typeof NodeStatus>;

/** A node as the API returns it: its configuration and its agent's status. */
export const NodeView = Node.extend({ status: NodeStatus }).meta({ id: "NodeView" });
export type NodeView = z.infer<typeof NodeView>;
