/** The IPVS half of bench/backends, run inside the qemu guest by test/ipvs/vm.sh. */
import { ipvsGuest } from "./workload.js";

ipvsGuest().catch((err) => {
  console.log(`GUEST FAILED ${(err as Error).stack}`);
  process.exit(1);
});
