/** A deadline for work on the Workers runtime: probes and mail attempts. */

/** Runs `work` with an AbortSignal that fires at the deadline; rejects with a timeout then. */
export async function withDeadline<T>(deadline: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        controller.abort();
        reject(new Error("timeout"));
      },
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    return await Promise.race([work(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
