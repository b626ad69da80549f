/**
 * keepalived's mail settings as an email subscription, one director's file at a time: where
 * smtp_alert is taken from (the block, the global default of its family, smtp_alert), sync
 * groups, real servers that opt out, and the relay, sender and timeout with their notes.
 */
import { describe, expect, it } from "vitest";
import { importLines as importOne } from "./keepalived-corpus.js";

/** The import of one director's lines, with each note as `line: message`. */
function importLines(lines: string[]) {
  const out = importOne(lines, "c");
  return { ...out, said: out.notes.map((n) => `${n.at.line}: ${n.message}`) };
}

const mailDefs = (...extra: string[]) => [
  "global_defs {",
  "  notification_email {",
  "    ops@example.net",
  "  }",
  "  notification_email_from lb@example.net",
  "  smtp_server relay.example.net 587",
  ...extra,
  "}",
];
const instance = (name: string, ...extra: string[]) => [
  `vrrp_instance ${name} {`,
  "  interface eth0",
  "  priority 100",
  ...extra,
  "  virtual_ipaddress {",
  `    10.0.0.${name.length}/24`,
  "  }",
  "}",
];
const service = (...extra: string[]) => [
  "virtual_server 10.0.0.4 80 {",
  ...extra,
  "  real_server 10.0.0.21 80 {",
  "    TCP_CHECK {",
  "    }",
  "  }",
  "  real_server 10.0.0.22 80 {",
  "    smtp_alert false",
  "    TCP_CHECK {",
  "    }",
  "  }",
  "}",
];

describe("keepalived mail settings", () => {
  it.each<[string, string[], { enabled: boolean; targets: string[]; events?: string[] }]>([
    [
      "smtp_alert on one instance",
      [...mailDefs(), ...instance("VI_A", "smtp_alert"), ...instance("VI_BB")],
      { enabled: true, targets: ["VI_A"], events: ["vip.moved", "lease.expired"] },
    ],
    [
      "global smtp_alert: every instance and checker, but the real server that says false",
      [...mailDefs("  smtp_alert"), ...instance("VI_A"), ...service()],
      { enabled: true, targets: ["VI_A", "10.0.0.4-80", "10.0.0.4-80/10.0.0.21-80"] },
    ],
    [
      "smtp_alert_vrrp overrides smtp_alert for instances only",
      [...mailDefs("  smtp_alert", "  smtp_alert_vrrp off"), ...instance("VI_A"), ...service()],
      { enabled: true, targets: ["10.0.0.4-80", "10.0.0.4-80/10.0.0.21-80"] },
    ],
    [
      "an instance that says off, under smtp_alert_vrrp",
      [...mailDefs("  smtp_alert_vrrp"), ...instance("VI_A", "smtp_alert off"), ...instance("VI_BB")],
      { enabled: true, targets: ["VI_BB"] },
    ],
    [
      "smtp_alert on a virtual_server",
      [...mailDefs(), ...instance("VI_A"), ...service("  smtp_alert")],
      { enabled: true, targets: ["10.0.0.4-80", "10.0.0.4-80/10.0.0.21-80"] },
    ],
    [
      "a sync group's smtp_alert: its unit, named after it",
      [
        ...mailDefs(),
        ...instance("VI_A"),
        ...instance("VI_BB"),
        "vrrp_sync_group SG {",
        "  group {",
        "    VI_A",
        "    VI_BB",
        "  }",
        "  smtp_alert",
        "}",
      ],
      { enabled: true, targets: ["SG"] },
    ],
    ["no smtp_alert at all", [...mailDefs(), ...instance("VI_A")], { enabled: false, targets: [] }],
  ])("%s", (_name, lines, want) => {
    const { email } = importLines(lines);
    expect(email).toMatchObject({ enabled: want.enabled, filter: { targets: want.targets } });
    if (want.events) expect(email?.filter.events).toEqual(want.events);
  });

  it.each<[string, string[], string, string[]]>([
    ["port 465: smtps", ["  smtp_server relay.example.net 465"], "smtps://relay.example.net", []],
    [
      "keepalived's default port 25",
      ["  smtp_server relay.example.net"],
      "smtp://relay.example.net:587",
      [
        "smtp_server relay.example.net: port 587, the relay's submission port, where keepalived uses 25: the control plane cannot connect to port 25",
      ],
    ],
    [
      "a relay on the director's LAN",
      ["  smtp_server 192.168.1.25 587"],
      "smtp://192.168.1.25:587",
      [
        "smtp_server 192.168.1.25: the control plane sends mail from outside your network and cannot reach this address; give it a relay it can reach",
      ],
    ],
    ["an IPv6 relay", ["  smtp_server 2001:db8::25 2525"], "smtp://[2001:db8::25]:2525", []],
  ])("the relay: %s", (_name, server, url, notes) => {
    const lines = [
      "global_defs {",
      "  notification_email {",
      "    ops@example.net",
      "  }",
      "  notification_email_from lb@example.net",
      ...server,
      "  smtp_alert",
      "}",
    ];
    const { email, said } = importLines(lines);
    expect(email?.url).toBe(url);
    for (const note of notes) expect(said).toContain(`6: ${note}`);
    expect(said.filter((n) => n.includes("smtp_server"))).toHaveLength(notes.length);
  });

  it("fills a missing sender and clamps the timeout, saying so", () => {
    const { email, said } = importLines([
      "global_defs {",
      "  notification_email {",
      "    ops@example.net",
      "  }",
      "  smtp_server relay.example.net 587",
      "  smtp_connect_timeout 600",
      "  smtp_alert",
      "}",
    ]);
    expect(email?.email).toEqual({
      from: "vigil@example.net",
      to: ["ops@example.net"],
      starttls: "required",
      timeout: 120,
    });
    expect(said).toContain("6: smtp_connect_timeout 600: 120 s, as Vigil's email.timeout takes 1 to 120 s");
    expect(said).toContain(
      "2: no notification_email_from: mail is sent from vigil@example.net, where keepalived uses keepalived@ the director's host name",
    );
  });

  it("writes no subscription without recipients, and says why", () => {
    const { email, said } = importLines([
      "global_defs {",
      "  smtp_server relay.example.net",
      "}",
      ...instance("VI_A", "smtp_alert"),
    ]);
    expect(email).toBeUndefined();
    expect(said).toContain("2: no notification_email: keepalived mails no one, so no email subscription is written");
  });

  it("writes nothing about mail for a file without mail settings", () => {
    const { email, said } = importLines(instance("VI_A"));
    expect(email).toBeUndefined();
    expect(said.some((n) => /mail|smtp/.test(n))).toBe(false);
  });
});
