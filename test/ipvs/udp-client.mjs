/**
 * `node udp-client.mjs ADDRESS PORT COUNT`, run in the qemu guest's client namespace: COUNT
 * queries one after the other, each from a new socket (so a new IPVS connection), and prints
 * the answers as a JSON array ("ERR" for a query unanswered within 2 s).
 */
import dgram from "node:dgram";

const [address = "", port = "53", count = "1"] = process.argv.slice(2);
const answers = [];
for (let i = 0; i < Number(count); i++) {
  const socket = dgram.createSocket(address.includes(":") ? "udp6" : "udp4");
  answers.push(
    await new Promise((resolve) => {
      const timer = setTimeout(() => resolve("ERR"), 2000);
      socket.once("message", (data) => {
        clearTimeout(timer);
        resolve(data.toString());
      });
      socket.send("who", Number(port), address);
    }),
  );
  socket.close();
}
console.log(JSON.stringify(answers));
