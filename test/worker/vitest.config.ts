import { workersProject } from "../setup/workers-project.js";

export default await workersProject({ name: "worker", include: ["test/worker/**/*.test.ts"] });
