import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { authPlain, capabilities, dataPayload, readReply, replyClass } from "../../src/core/smtp.js";

describe("readReply", () => {
  it.each([
    ["220 mx.example.net ESMTP\r\n", { code: 220, lines: ["mx.example.net ESMTP"] }, ""],
    ["250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n", { code: 250, lines: ["mx", "PIPELINING", "STARTTLS"] }, ""],
    ["354\r\n", { code: 354, lines: [""] }, ""],
    ["250 ok\r\n221 bye\r\n", { code: 250, lines: ["ok"] }, "221 bye\r\n"],
  ])("reads %j", (text, reply, rest) => {
    expect(readReply(text)).toEqual({ reply, rest });
  });

  it("waits for the reply's last line", () => {
    expect(readReply("")).toBeNull();
    expect(readReply("250-mx\r\n250-PIPELINING\r\n")).toBeNull();
    expect(readReply("250 ok")).toBeNull();
  });

  it("refuses what is not SMTP, and a reply whose code changes midway", () => {
    expect(() => readReply("HTTP/1.1 400 Bad Request\r\n")).toThrow(/not an SMTP reply line: "HTTP\/1.1 400/);
    expect(() => readReply("250-mx\r\n550 no\r\n")).toThrow(/changed its code from 250 to 550/);
  });

  it("reads back any reply however the bytes arrive", () => {
    const line = fc.stringMatching(/^[ -~]{0,40}$/);
    fc.assert(
      fc.property(fc.integer({ min: 200, max: 599 }), fc.array(line, { minLength: 1, maxLength: 5 }), (code, lines) => {
        const text = lines.map((l, i) => `${code}${i === lines.length - 1 ? " " : "-"}${l}\r\n`).join("");
        expect(readReply(text)).toEqual({ reply: { code, lines }, rest: "" });
        for (let cut = 0; cut < text.length; cut++) expect(readReply(text.slice(0, cut))).toBeNull();
      }),
      { numRuns: 300 },
    );
  });
});

describe("replyClass", () => {
  it.each([
    [220, "ok"],
    [250, "ok"],
    [354, "ok"],
    [421, "transient"],
    [451, "transient"],
    [535, "permanent"],
    [550, "permanent"],
  ] as const)("%i is %s", (code, kind) => {
    expect(replyClass(code)).toBe(kind);
  });
});

describe("capabilities", () => {
  it("reads STARTTLS and the AUTH mechanisms, whatever their case", () => {
    const ehlo = { code: 250, lines: ["mx greets you", "PIPELINING", "starttls", "AUTH login PLAIN", "SIZE 10240000"] };
    expect(capabilities(ehlo)).toEqual({ starttls: true, auth: ["LOGIN", "PLAIN"] });
    expect(capabilities({ code: 250, lines: ["mx"] })).toEqual({ starttls: false, auth: [] });
  });

  it("does not take the greeting line for a capability", () => {
    expect(capabilities({ code: 250, lines: ["STARTTLS"] }).starttls).toBe(false);
  });
});

describe("authPlain", () => {
  it("sends no authorization identity, then the user and the password, in base64", () => {
    expect(authPlain("vigil", "s3cret")).toBe("AUTH PLAIN AHZpZ2lsAHMzY3JldA==");
    const sent = authPlain("ops@example.net", "pässword").slice("AUTH PLAIN ".length);
    expect(new TextDecoder().decode(Uint8Array.from(atob(sent), (c) => c.charCodeAt(0)))).toBe(
      "\0ops@example.net\0pässword",
    );
  });
});

describe("dataPayload", () => {
  it("ends lines with CRLF, doubles a leading dot, and ends with the dot line", () => {
    expect(dataPayload("Subject: x\n\n.hidden\nline\n.\n")).toBe("Subject: x\r\n\r\n..hidden\r\nline\r\n..\r\n.\r\n");
    expect(dataPayload("a\r\nb")).toBe("a\r\nb\r\n.\r\n");
  });

  it("never ends the data early: no line of the payload but the last is a lone dot", () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[.a-z ]{0,6}$/), { maxLength: 8 }), (lines) => {
        const sent = dataPayload(lines.join("\r\n")).split("\r\n");
        expect(sent.at(-1)).toBe("");
        expect(sent.at(-2)).toBe(".");
        expect(sent.slice(0, -2).includes(".")).toBe(false);
        // Undoing the stuffing gives the message back.
        expect(
          sent
            .slice(0, -2)
            .map((l) => (l.startsWith(".") ? l.slice(1) : l))
            .join("\r\n"),
        ).toBe(lines.join("\r\n").replace(/\r\n$/, ""));
      }),
      { numRuns: 300 },
    );
  });
});
