/**
 * bench/channel-ceiling's Durable Object: counts the WebSocket messages it is sent and does
 * nothing else with them, or, for a message that asks, what every agent frame costs at the
 * least: JSON parsed and an Ed25519 signature verified. No Vigil code.
 */
import { DurableObject } from "cloudflare:workers";

const bytes = (base64) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));

export class Hub extends DurableObject {
  count = 0;
  keys = new Map();

  async fetch(request) {
    if (new URL(request.url).pathname === "/count") return new Response(String(this.count));
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(_ws, text) {
    if (text.charCodeAt(0) === 123) {
      const frame = JSON.parse(text);
      let key = this.keys.get(frame.publicKey);
      if (!key) {
        key = await crypto.subtle.importKey("raw", bytes(frame.publicKey), { name: "Ed25519" }, false, ["verify"]);
        this.keys.set(frame.publicKey, key);
      }
      const body = new TextEncoder().encode(frame.body);
      if (!(await crypto.subtle.verify("Ed25519", key, bytes(frame.signature), body))) throw new Error("bad signature");
    }
    this.count += 1;
  }
}

export default {
  fetch: (request, env) => env.HUB.getByName("one").fetch(request),
};
