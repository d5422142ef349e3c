import {
  BadRequestException,
  HttpException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { nestsDeeperThan } from './json-nesting';
import { MAX_JSON_DEPTH } from './limits';

/** The one media type the API reads, as body-parser's JSON parser reads it by default. */
export const JSON_MEDIA_TYPE = 'application/json';

type Next = (error?: unknown) => void;

/** The request as Express passes it to middleware: `is` matches its Content-Type, and is null without a body. */
interface BodyRequest extends IncomingMessage {
  body?: unknown;
  is(type: string): string | false | null;
}

/** What body-parser attaches to the errors it raises. */
interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
  message?: string;
}

/**
 * Mounts the reading of request bodies, in this order: the media type, then the
 * bytes (size, Content-Encoding, charset) and their text, then the nesting, then
 * the JSON, then its shape. Every refusal is a 4xx of the API's error shape, and
 * nothing reaches validation that could make it fail with a 500.
 *
 * body-parser reads the text (its `text` parser, for JSON's media type) rather than
 * parsing it too, so that the nesting is checked on the text that JSON.parse gets,
 * whatever its charset, before anything is built from it.
 */
export function useJsonBody(app: NestExpressApplication, limitBytes: number): void {
  app.use(requireJsonMediaType);
  app.useBodyParser('text', { type: JSON_MEDIA_TYPE, limit: limitBytes, verify: requireUnicodeCharset });
  app.use(bodyReadErrors, parseJsonBody, requireJsonObject);
}

/**
 * Every body the API reads is JSON: a body of another media type answers 415
 * before it is read, where it would otherwise reach validation as fields of a form,
 * or as no body at all. A request without a body, or with an empty one, passes
 * whatever its Content-Type: the body of POST /conversations is optional.
 */
function requireJsonMediaType(request: BodyRequest, _response: ServerResponse, next: Next): void {
  if (Number(request.headers['content-length']) === 0 || request.is(JSON_MEDIA_TYPE) !== false) return next();
  const type = request.headers['content-type']?.split(';')[0].trim();
  const sent = type ? `not ${type}` : 'it has no Content-Type';
  next(new UnsupportedMediaTypeException(`The body must be JSON, with Content-Type: ${JSON_MEDIA_TYPE} (${sent})`));
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
 * Turns body-parser's errors into the API's error answers: 413 over the limit, 415
 * for an unknown charset or Content-Encoding, 400 for a body that does not
 * decompress, and the status body-parser gives for the rest. As HttpExceptions,
 * they are answered as client errors, not logged as failures of the app.
 */
function bodyReadErrors(error: unknown, request: IncomingMessage, _response: ServerResponse, next: Next): void {
  if (error instanceof HttpException) return next(error);
  const { type, status, limit, message } = (error ?? {}) as BodyParserError;
  switch (type) {
    case 'entity.too.large':
      return next(new PayloadTooLargeException(`The body is over the limit of ${limit} bytes`));
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return next(new UnsupportedMediaTypeException(message));
  }
  // anything else body-parser does not mark as the client's is a failure of the app: a 500, and logged
  if (typeof status !== 'number' || status < 400 || status >= 500) return next(error);
  const encoding = request.headers['content-encoding']?.toLowerCase() ?? 'identity';
  // with a Content-Encoding, body-parser reads a decompression stream, whose errors it passes on without a type
  if (type === undefined && encoding !== 'identity') {
    return next(new BadRequestException(`The body could not be decompressed (Content-Encoding: ${encoding})`));
  }
  next(new HttpException({ statusCode: status, message, error: STATUS_CODES[status] }, status));
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
  if (body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body))) return next();
  const kind = body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
  next(new BadRequestException([`body must be a JSON object, not ${kind}`]));
}
