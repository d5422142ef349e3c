import { loadOtelEnvironment } from './otel-environment';
import { startTracing } from './tracing';

// main.ts imports this module first: tracing must start before Nest and ioredis load (docs/tracing.md)
loadOtelEnvironment(process.env.ENV_FILE ?? '.env');
startTracing();
