import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'dotenv';

/**
 * Copies the `OTEL_*` variables of the env file the app reads (`ENV_FILE`, or
 * `.env`) into `process.env`, where the OpenTelemetry SDK reads them. Tracing
 * starts before Nest, whose ConfigModule would read the file too late for it.
 * A variable already in the environment wins, as it does for the app.
 */
export function loadOtelEnvironment(path: string): void {
  if (!existsSync(path)) return;
  for (const [name, value] of Object.entries(parse(readFileSync(path)))) {
    if (name.startsWith('OTEL_') && process.env[name] === undefined) process.env[name] = value;
  }
}
