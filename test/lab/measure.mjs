/**
 * What a failover run shows, computed from the lab's records: the sampler's holders, the
 * client's answers, the gratuitous ARPs seen on the wire.
 */

/** Samples in which more than one director held the VIP. */
export function splitSamples(samples) {
  return samples.filter((s) => s.holders.length > 1);
}

/** Seconds during which two directors held the VIP at once (sum of the sampling intervals). */
export function twoHolderSeconds(samples) {
  let ms = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i - 1].holders.length > 1) ms += samples[i].t - samples[i - 1].t;
  return ms / 1000;
}

/** Every moment a director started holding the VIP: {t, node}. */
export function claims(samples) {
  const out = [];
  let before = [];
  for (const s of samples) {
    for (const node of s.holders) if (!before.includes(node)) out.push({ t: s.t, node });
    before = s.holders;
  }
  return out;
}

/** Claims with no gratuitous ARP from the claiming director within 2 s after it (or shortly before the sample saw it). */
export function claimsWithoutGarp(samples, garps, from = 0) {
  return claims(samples).filter(
    (c) => c.t >= from && !garps.some((g) => g.from === c.node && g.t >= c.t - 1000 && g.t <= c.t + 2000),
  );
}

/** Milliseconds from `t0` until the sampler first saw exactly `node` holding the VIP, or null. */
export function failoverMs(samples, t0, node) {
  const hit = samples.find((s) => s.t >= t0 && s.holders.length === 1 && s.holders[0] === node);
  return hit ? hit.t - t0 : null;
}

/**
 * The client's outage around a fault: the longest time between two answered requests sent
 * in [from, to] (requests go out every 50 ms, so an unbroken service shows about 50 ms).
 */
export function outageMs(answers, from, to) {
  return longestGap(answers, from, to).ms;
}

/** The longest stretch in [from, to] with no answered request: its length, where it starts and ends. */
export function longestGap(answers, from, to) {
  const ok = answers.filter((a) => a.who && a.t >= from && a.t <= to).map((a) => a.t);
  const edges = [from, ...ok, to];
  let gap = { ms: 0, from, to: from };
  for (let i = 1; i < edges.length; i++)
    if (edges[i] - edges[i - 1] > gap.ms) gap = { ms: edges[i] - edges[i - 1], from: edges[i - 1], to: edges[i] };
  return gap;
}

/** The most requests sent in [from, to] that went unanswered one after another. */
export function lostInARow(answers, from, to) {
  let run = 0;
  let most = 0;
  for (const a of [...answers].filter((x) => x.t >= from && x.t <= to).sort((x, y) => x.t - y.t)) {
    run = a.who ? 0 : run + 1;
    most = Math.max(most, run);
  }
  return most;
}

/** The directors that answered requests sent in [from, to]. */
export function whoAnswered(answers, from, to) {
  return [...new Set(answers.filter((a) => a.who && a.t >= from && a.t <= to).map((a) => a.who))];
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Milliseconds from `t0` until the sampler first saw `node` holding the VIP, alone or not, or null. */
export function reachedMs(samples, t0, node) {
  const hit = samples.find((s) => s.t >= t0 && s.holders.includes(node));
  return hit ? hit.t - t0 : null;
}
