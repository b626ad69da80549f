export function runGuest(
  entry: string,
  files?: string[],
  options?: { hostPort?: number; timeoutSeconds?: number },
): Promise<Record<string, any>>;
