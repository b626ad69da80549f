export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  command: string,
  args: string[],
  options?: { env?: NodeJS.ProcessEnv; input?: string },
): Promise<Ran>;
