/** Polls `check` until it returns a value that is not undefined, or fails after `attempts`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string, attempts = 100, pauseMs = 100): Promise<T> {
  let last: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  throw new Error(`gave up waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
