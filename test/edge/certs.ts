/**
 * Test certificates made with openssl: a private CA the Worker under test trusts, a server
 * certificate it signed for localhost, and a self-signed one it does not trust.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface TestCerts {
  dir: string;
  caCert: string;
  serverKey: string;
  serverCert: string;
  selfSignedKey: string;
  selfSignedCert: string;
}

export function makeCerts(): TestCerts {
  const dir = mkdtempSync(path.join(tmpdir(), "vigil-certs-"));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
  const san = "subjectAltName=DNS:localhost,IP:127.0.0.1";
  const selfSigned = (cn: string, name: string, ...extensions: string[]) =>
    openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=${cn}`,
      "-keyout",
      file(`${name}.key`),
      "-out",
      file(`${name}.crt`),
      ...extensions.flatMap((e) => ["-addext", e]),
    );
  selfSigned("Vigil Test CA", "ca", "basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign");
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
  );
  openssl(
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.crt"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-out",
    file("server.crt"),
    "-extfile",
    writeExt(dir, san),
  );
  selfSigned("localhost", "self", san);
  const read = (name: string) => readFileSync(file(name), "utf8");
  return {
    dir,
    caCert: read("ca.crt"),
    serverKey: read("server.key"),
    serverCert: read("server.crt"),
    selfSignedKey: read("self.key"),
    selfSignedCert: read("self.crt"),
  };
}

function writeExt(dir: string, san: string): string {
  const ext = path.join(dir, "server.ext");
  execFileSync("sh", ["-c", `printf '%s\\n' "$1" > "$2"`, "sh", san, ext]);
  return ext;
}
