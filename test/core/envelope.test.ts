import { defineEnvelopeTests } from "../shared/envelope-cases.js";

defineEnvelopeTests("Node (the agent's runtime)");
