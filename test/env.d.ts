import type { D1Migration } from "@cloudflare/vitest-pool-workers";
import type { Env as VigilEnv } from "../src/env.js";

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("../src/index.js");
    }
    interface Env extends VigilEnv {
      TEST_MIGRATIONS: D1Migration[];
      VIGIL_ADMIN_TOKEN: string;
    }
  }
}
