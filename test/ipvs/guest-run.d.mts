export function runGuest(
  entry: string,
  files?: string[],
  options?: { hostPort?: number; timeoutSeconds?: number; binaries?: string[] },
): Promise<Record<string, any>>;
