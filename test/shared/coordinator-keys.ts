/**
 * The coordinator's test keys: `coord-test` (seed of 32 bytes of 0x07) signs; `coord-next`
 * (0x08) is offered beside it, as during a key rotation.
 */
export const COORDINATOR_KEY =
  "coord-test:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc,coord-next:CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg";
export const NEXT_COORDINATOR_PUBLIC_KEY = "E5j2LG0aRXxRumpLXz29L2n8qTIWIY3ImX5Ba9F9k8o";
