import { defineEnvelopeTests } from "../shared/envelope-cases.js";

defineEnvelopeTests("workerd (the Worker's runtime)");
