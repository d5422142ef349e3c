import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

export const DOCS_PATH = 'docs';

/** The demo's version, from package.json (two folders up from src/docs and from dist/docs alike). */
export const DEMO_VERSION = (
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
).version;

/** The OpenAPI document, built from the controllers' and DTOs' decorators. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('wbot redis-cache demo')
    .setDescription(
      'Chat history and per-user embeddings with SQLite as the system of record and @wbot/redis-cache in front: ' +
        'conversations are cached write-through on the shared Redis, embeddings in a per-user LRU on the local one, ' +
        "and a local language model's chat answers, per tenant, through the AI SDK middleware. " +
        'When API_KEY is set, every route except health and metrics needs `Authorization: Bearer <API_KEY>`.',
    )
    .setVersion(DEMO_VERSION)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The API_KEY, when it is set.' })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Serves Swagger UI at /docs and the document at /docs-json, without authentication. */
export function setupDocs(app: INestApplication): void {
  SwaggerModule.setup(DOCS_PATH, app, () => buildOpenApiDocument(app));
}
