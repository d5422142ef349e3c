import {
  BadRequestException,
  HttpException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nestsDeeperThan } from './json-nesting';
import { MAX_JSON_DEPTH } from './limits';

/** The one media type the API reads, as body-parser's JSON parser reads it by default. */
export const JSON_MEDIA_TYPE = 'application/json';

type Next = (error?: unknown) => void;

/** The request as Express passes it to middleware. */
interface BodyRequest extends IncomingMessage {
  body?: unknown;
}

/** What body-parser attaches to the errors it raises. */
interface BodyParserError {
  type?: string;
  limit?: number;
  message?: string;
}

/**
 * Mounts the reading of JSON bodies, in this order: the bytes (size,
 * Content-Encoding, charset) and their text, then the nesting, then the JSON, then
 * its shape. Nothing reaches validation that could make it fail with a 500.
 *
 * body-parser reads the text (its `text` parser, for JSON's media type) rather than
 * parsing it too, so that the nesting is checked on the text that JSON.parse gets,
 * whatever its charset, before anything is built from it.
 */
export function useJsonBody(app: NestExpressApplication, limitBytes: number): void {
  app.useBodyParser('text', { type: JSON_MEDIA_TYPE, limit: limitBytes, verify: requireUnicodeCharset });
  app.use(bodyReadErrors, parseJsonBody, requireJsonObject);
}

/**
 * body-parser's check of the raw bytes: JSON is Unicode (RFC 8259), so a body in
 * another charset answers 415, as body-parser's own JSON parser answers it.
 */
function requireUnicodeCharset(
  _request: IncomingMessage,
  _response: ServerResponse,
  _body: Buffer,
  charset: string,
): void {
  if (!charset.startsWith('utf-')) {
    throw Object.assign(new Error(`unsupported charset "${charset.toUpperCase()}"`), { type: 'charset.unsupported' });
  }
}

/**
 * Turns body-parser's errors into the API's error answers (413 over the limit,
 * 415 for an unknown charset), so that no body, however broken, reaches the
 * exception handler as an unknown error.
 */
function bodyReadErrors(error: unknown, _request: IncomingMessage, _response: ServerResponse, next: Next): void {
  const { type, limit, message } = (error ?? {}) as BodyParserError;
  if (error instanceof HttpException) return next(error);
  switch (type) {
    case 'entity.too.large':
      return next(new PayloadTooLargeException(`The body is over the limit of ${limit} bytes`));
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return next(new UnsupportedMediaTypeException(message));
    default:
      return next(typeof type === 'string' ? new BadRequestException(message) : error);
  }
}

/**
 * Parses the JSON text, once its nesting is known to be within MAX_JSON_DEPTH:
 * JSON.parse itself takes any depth, but validation and class-transformer walk the
 * result recursively. An empty body is `{}`, as body-parser's JSON parser makes it.
 */
function parseJsonBody(request: BodyRequest, _response: ServerResponse, next: Next): void {
  const { body } = request;
  if (typeof body !== 'string') return next();
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
    return next(new BadRequestException(`The body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`));
  }
  try {
    request.body = body.length === 0 ? {} : JSON.parse(body);
  } catch (error) {
    return next(new BadRequestException(`The body is not valid JSON: ${(error as Error).message}`));
  }
  next();
}

/** A JSON body must be an object: every route takes named fields, and an array or scalar has none. */
function requireJsonObject(request: BodyRequest, _response: ServerResponse, next: Next): void {
  const { body } = request;
  if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
    return next(new BadRequestException(['body must be a JSON object']));
  }
  next();
}
