export class DemoAgent {
  constructor(options: {
    node: string;
    dir: string;
    url: string;
    agentUrl?: string;
    cluster: string;
    peerPort?: number;
    hostActions?: string;
    inside?: (argv: string[]) => string[];
    onLine: (line: string) => void;
  });
  readonly config: string;
  tail: string[];
  enroll(token: string): void;
  stateDir(): string;
  start(): void;
  stop(signal?: NodeJS.Signals): Promise<void>;
  failure(): string | null;
}
