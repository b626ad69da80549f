/**
 * Test harness: feeds frames from stdin, one per line, to the agent's Inbox on a real state
 * directory and prints what happened. Bundled and run as its own process by inbox.test.ts, so
 * the test can kill -9 it between messages.
 */
import { createInterface } from "node:readline";
import { Inbox } from "../../host-agent/src/inbox.js";
import { StateStore } from "../../host-agent/src/state.js";

async function main(): Promise<void> {
  const [stateDir = "", now = ""] = process.argv.slice(2);
  const inbox = await Inbox.load(new StateStore(stateDir));
  console.log("ready");
  for await (const line of createInterface({ input: process.stdin })) {
    const { accepted, reason } = await inbox.receive(line, Number(now));
    console.log(JSON.stringify({ accepted, reason }));
  }
}

void main();
