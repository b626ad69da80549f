/**
 * The IPVS driver. Reads the live table with `ipvsadm -S -n`, computes the smallest edit that
 * turns the services Vigil manages into the desired ones, feeds it to `ipvsadm -R` on stdin,
 * then reads back and compares. ipvsadm exits 0 even when the kernel rejects a line inside
 * `-R`, so any stderr output is a failure. Services Vigil never managed are left alone.
 */
import type { ActualServer, ActualService, SyncDaemonState } from "../../src/core/backend-status.js";
import type { DesiredService } from "../../src/core/backends.js";
import { DesiredService as DesiredServiceSchema } from "../../src/core/backends.js";
import { parseDaemons } from "./lvs-sync.js";
import { CommandError, forgetful, must, type Remembered, type Runner } from "./runner.js";

/** One virtual service as ipvsadm prints it: the key is `-t 10.0.0.1:80`, `-u [fd00::1]:53` or `-f 5`. */
export interface IpvsService {
  key: string;
  scheduler: string;
  /** `-p 360` and `-M 255.255.255.0`, as printed, or empty. */
  persistence: string;
  /** Real server `addr:port` -> its forwarding flag and weight. */
  servers: Map<string, { method: "-g" | "-m" | "-i"; weight: number }>;
}

export type IpvsTable = Map<string, IpvsService>;

const METHOD = { dr: "-g", nat: "-m", tun: "-i" } as const;

function endpoint(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Parses `ipvsadm -S -n` output. */
export function parseSave(text: string): IpvsTable {
  const table: IpvsTable = new Map();
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    const [verb, kind, addr] = words;
    if ((verb !== "-A" && verb !== "-a") || !kind || !addr) continue;
    const key = `${kind} ${addr}`;
    const flag = (name: string) => {
      const at = words.indexOf(name);
      return at < 0 ? undefined : words[at + 1];
    };
    if (verb === "-A") {
      const persistence = [flag("-p") ? `-p ${flag("-p")}` : "", flag("-M") ? `-M ${flag("-M")}` : ""]
        .filter(Boolean)
        .join(" ");
      table.set(key, { key, scheduler: flag("-s") ?? "wlc", persistence, servers: new Map() });
    } else {
      const service = table.get(key);
      const server = flag("-r");
      if (!service || !server) continue;
      const method = words.includes("-m") ? "-m" : words.includes("-i") ? "-i" : "-g";
      service.servers.set(server, { method, weight: Number(flag("-w") ?? 1) });
    }
  }
  return table;
}

const LIST_PROTOCOL: Record<string, string> = { TCP: "-t", UDP: "-u", FWM: "-f" };

/** A live service as `ipvsadm -L -n` prints it, with connection counts, under its `-S` key. */
export type IpvsListing = Map<string, { scheduler: string; servers: ActualServer[] }>;

/**
 * Parses `ipvsadm -L -n`: `TCP  10.0.0.1:80 wrr persistent 360` starts a service, and
 * `  -> 10.0.0.21:80  Masq  3  1  7` is a real server with weight, active and inactive
 * connections.
 */
export function parseList(text: string): IpvsListing {
  const listing: IpvsListing = new Map();
  let current: { scheduler: string; servers: ActualServer[] } | undefined;
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    const flag = LIST_PROTOCOL[words[0] ?? ""];
    if (flag && words[1] && words[2]) {
      current = { scheduler: words[2], servers: [] };
      listing.set(`${flag} ${words[1]}`, current);
      continue;
    }
    const [arrow, server, forward, weight, active, inactive] = words;
    if (arrow !== "->" || !current || !server || !/^\d+$/.test(weight ?? "")) continue;
    const at = server.lastIndexOf(":");
    current.servers.push({
      address: server.slice(0, at).replace(/^\[|\]$/g, ""),
      port: Number(server.slice(at + 1)),
      weight: Number(weight),
      ...(forward ? { forward } : {}),
      activeConns: Number(active ?? 0),
      inactiveConns: Number(inactive ?? 0),
    });
  }
  return listing;
}

/** The `-S` key of a desired service: `-t 10.0.0.1:80`, `-u [fd00::1]:53` or `-f 5`. */
export function serviceKey(s: DesiredService): string {
  return s.fwmark !== undefined
    ? `-f ${s.fwmark}`
    : `${s.protocol === "udp" ? "-u" : "-t"} ${endpoint(s.address ?? "", s.port ?? 0)}`;
}

/** The table the desired services make, in the same form as a read-back. */
export function tableOf(services: DesiredService[]): IpvsTable {
  const table: IpvsTable = new Map();
  for (const s of services) {
    if (s.driver.type !== "ipvs") continue;
    const key = serviceKey(s);
    const netmask = s.persistence?.netmask;
    const persistence = s.persistence
      ? [`-p ${s.persistence.timeout}`, netmask !== undefined && typeof netmask === "string" ? `-M ${netmask}` : ""]
          .filter(Boolean)
          .join(" ")
      : "";
    const servers = new Map<string, { method: "-g" | "-m" | "-i"; weight: number }>();
    for (const rs of s.servers) {
      // fwmark real servers read back with port 0.
      servers.set(endpoint(rs.address, s.fwmark !== undefined ? 0 : rs.port), {
        method: METHOD[s.forwarding],
        weight: rs.weight,
      });
    }
    table.set(key, { key, scheduler: s.scheduler, persistence, servers });
  }
  return table;
}

/**
 * The `ipvsadm -R` lines that turn `live` into `desired` for the services in `managed`
 * (plus every desired one): -D for services gone, -A/-E for new or changed ones, -d/-a/-e for
 * real servers removed, added or changed. Nothing else.
 */
export function editLines(live: IpvsTable, desired: IpvsTable, managed: Iterable<string>): string[] {
  const lines: string[] = [];
  for (const key of managed) if (!desired.has(key) && live.has(key)) lines.push(`-D ${key}`);
  for (const [key, want] of desired) {
    const have = live.get(key);
    const options = `-s ${want.scheduler}${want.persistence ? ` ${want.persistence}` : ""}`;
    if (!have) lines.push(`-A ${key} ${options}`);
    else if (have.scheduler !== want.scheduler || have.persistence !== want.persistence)
      lines.push(`-E ${key} ${options}`);
    for (const server of have?.servers.keys() ?? [])
      if (!want.servers.has(server)) lines.push(`-d ${key} -r ${server}`);
    for (const [server, w] of want.servers) {
      const current = have?.servers.get(server);
      if (!current) lines.push(`-a ${key} -r ${server} ${w.method} -w ${w.weight}`);
      else if (current.method !== w.method || current.weight !== w.weight)
        lines.push(`-e ${key} -r ${server} ${w.method} -w ${w.weight}`);
    }
  }
  return lines;
}

/** Renders a table as `ipvsadm -S -n` would print it, for comparing and for status. */
export function renderTable(table: IpvsTable): string[] {
  const out: string[] = [];
  for (const s of [...table.values()].sort((a, b) => a.key.localeCompare(b.key))) {
    out.push(`-A ${s.key} -s ${s.scheduler}${s.persistence ? ` ${s.persistence}` : ""}`);
    for (const [server, w] of [...s.servers].sort(([a], [b]) => a.localeCompare(b)))
      out.push(`-a ${s.key} -r ${server} ${w.method} -w ${w.weight}`);
  }
  return out;
}

export interface SyncResult {
  /** The lines sent to `ipvsadm -R` (none when nothing differed). */
  sent: string[];
  /** The live table of the managed services after the edit. */
  actual: string[];
}

export class IpvsDriver {
  /** Service keys this driver has programmed, so it removes only what it added; kept across restarts. */
  readonly managed: Set<string>;

  constructor(
    private readonly runner: Runner,
    private readonly memory: Remembered = forgetful,
  ) {
    this.managed = new Set(memory.load());
  }

  /** Feeds lines to `ipvsadm -R`. It exits 0 when the kernel refuses a line: any stderr is the failure. */
  async apply(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    const argv = ["ipvsadm", "-R"];
    const result = await this.runner.run(argv, `${lines.join("\n")}\n`);
    if (result.code !== 0 || result.stderr.trim() !== "")
      throw new CommandError(argv, { ...result, code: result.code || 1 });
  }

  async read(): Promise<IpvsTable> {
    return parseSave((await must(this.runner, ["ipvsadm", "-S", "-n"])).stdout);
  }

  /** The connection sync daemons the kernel runs (see lvs-sync.ts). */
  async syncDaemons(): Promise<SyncDaemonState[]> {
    return parseDaemons((await must(this.runner, ["ipvsadm", "-L", "--daemon"])).stdout);
  }

  /** What the kernel has for these services now, with connection counts. */
  async status(services: DesiredService[]): Promise<ActualService[]> {
    const listing = parseList((await must(this.runner, ["ipvsadm", "-L", "-n"])).stdout);
    return services.map((s) => {
      const live = listing.get(serviceKey(s));
      return live
        ? { service: s.name, present: true, scheduler: live.scheduler, servers: live.servers }
        : { service: s.name, present: false, servers: [] };
    });
  }

  async sync(services: DesiredService[]): Promise<SyncResult> {
    const validated = services.map((s) => DesiredServiceSchema.parse(s));
    const desired = tableOf(validated);
    const live = await this.read();
    const sent = editLines(live, desired, this.managed);
    await this.apply(sent);
    for (const key of this.managed) if (!desired.has(key)) this.managed.delete(key);
    for (const key of desired.keys()) this.managed.add(key);
    this.memory.save([...this.managed]);
    const after = await this.read();
    const mine = new Map([...after].filter(([key]) => desired.has(key)));
    const actual = renderTable(mine);
    const wanted = renderTable(desired);
    if (actual.join("\n") !== wanted.join("\n")) {
      const missing = wanted.filter((l) => !actual.includes(l));
      const extra = actual.filter((l) => !wanted.includes(l));
      throw new Error(
        `IPVS table differs after the edit: missing [${missing.join("; ")}], unexpected [${extra.join("; ")}]`,
      );
    }
    return { sent, actual };
  }
}
