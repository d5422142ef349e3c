import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { APP_OPTIONS, configureApp } from '../../src/app.setup';

/** Every variable the demo reads, as .env.example lists them (environment.spec.ts checks the list is complete). */
const VARIABLES = [
  ...readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm),
].map((match) => match[1]);

/** What every test app gets unless the test says otherwise: no file on disk, no log lines. */
const TEST_DEFAULTS = { DATABASE_PATH: ':memory:', LOG_LEVEL: 'silent' };

export interface BootOptions {
  /** Changes the testing module before it is compiled, e.g. to override a provider. */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** Runs on the app before init, e.g. to attach a logger. */
  beforeInit?: (app: NestExpressApplication) => void;
}

/**
 * Boots the demo's AppModule, configured exactly as main.ts configures it, with
 * exactly this environment (it is read while the app is created).
 */
export async function bootDemo(
  environment: Record<string, string>,
  options: BootOptions = {},
): Promise<NestExpressApplication> {
  const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, TEST_DEFAULTS, environment);
  try {
    const builder = Test.createTestingModule({ imports: [AppModule] });
    const moduleRef = await (options.override?.(builder) ?? builder).compile();
    const app = moduleRef.createNestApplication<NestExpressApplication>({ ...APP_OPTIONS, logger: false });
    options.beforeInit?.(app);
    configureApp(app);
    return await app.init();
  } finally {
    for (const name of VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}
