/** Vigil's version, as the API and the probes' User-Agent report it. */
export const VERSION = "0.1.0";
