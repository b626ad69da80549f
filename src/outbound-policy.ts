/**
 * Where a deployed control plane may send requests of its own: webhooks and edge-region
 * probes. Not to this machine, the LAN, link-local addresses (the cloud metadata service at
 * 169.254.169.254 among them) or names of the local network: a token that may add a webhook
 * must not be able to make the control plane reach inside. Private real servers are probed
 * by agents on their LAN instead. `npm start` sets VIGIL_ALLOW_PRIVATE_TARGETS, so local work
 * on loopback still runs. Addresses are parsed by ipaddr.js, IPv4-mapped IPv6 included.
 *
 * Names are checked as written; one that resolves to a private address is left to the
 * platform, which does not connect Workers to private or internal addresses.
 */
import ipaddr from "ipaddr.js";

const REFUSED_RANGES: Record<string, string> = {
  loopback: "a loopback address",
  private: "a private address",
  linkLocal: "a link-local address (cloud metadata services live there)",
  uniqueLocal: "a private (unique local) address",
  unspecified: "the unspecified address",
  carrierGradeNat: "a carrier-grade NAT address",
  broadcast: "a broadcast address",
  multicast: "a multicast address",
};

const LOCAL_NAMES = /(^|\.)(localhost|local|internal|home\.arpa)\.?$/i;

/** @param vars the Worker's vars (its Env will do) */
export function privateTargetsAllowed(vars: { VIGIL_ALLOW_PRIVATE_TARGETS?: string | undefined }): boolean {
  return vars.VIGIL_ALLOW_PRIVATE_TARGETS === "true";
}

/** Why a host (an IP address or a name) may not be reached from a deployed control plane, or null. */
export function hostRefusal(host: string): string | null {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  if (ipaddr.isValid(bare)) {
    const address = ipaddr.process(bare);
    const why = REFUSED_RANGES[address.range()];
    return why ? `${address.toString()} is ${why}` : null;
  }
  return LOCAL_NAMES.test(bare) ? `${bare} is a name of the local network` : null;
}

/** The same for a URL's host. */
export function urlRefusal(url: string): string | null {
  return hostRefusal(new URL(url).hostname);
}
