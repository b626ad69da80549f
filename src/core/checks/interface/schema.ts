/** interface: a network interface on the agent's host has its link up (keepalived: track_interface). */
import * as z from "zod";
import { InterfaceName } from "../../primitives.js";

/** A network interface on the agent's host has its link up (keepalived's track_interface). */
export const InterfaceParams = z.strictObject({ type: z.literal("interface"), interface: InterfaceName });
