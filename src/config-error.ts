/** A configuration value that cannot be used: names the variable and what it expects. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expected: string,
    received: string,
  ) {
    super(`${variable}=${JSON.stringify(received)} is invalid: expected ${expected}`);
    this.name = 'ConfigError';
  }
}
