import {
  BadRequestException,
  HttpException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';

type Next = (error?: unknown) => void;

/** What body-parser attaches to the errors it raises. */
interface BodyParserError {
  type?: string;
  limit?: number;
  message?: string;
}

/**
 * Turns the JSON body parser's errors into the API's error answers (400 for
 * malformed JSON, 413 over the limit, 415 for an unknown charset), so that no
 * body, however broken, reaches the exception handler as an unknown error.
 */
export function jsonBodyErrors(error: unknown, _request: IncomingMessage, _response: ServerResponse, next: Next): void {
  const { type, limit, message } = (error ?? {}) as BodyParserError;
  if (error instanceof HttpException) return next(error);
  switch (type) {
    case 'entity.too.large':
      return next(new PayloadTooLargeException(`The body is over the limit of ${limit} bytes`));
    case 'entity.parse.failed':
      return next(new BadRequestException(`The body is not valid JSON: ${message}`));
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return next(new UnsupportedMediaTypeException(message));
    default:
      return next(typeof type === 'string' ? new BadRequestException(message) : error);
  }
}

/** A JSON body must be an object: every route takes named fields, and an array or scalar has none. */
export function requireJsonObject(
  request: IncomingMessage & { body?: unknown },
  _response: ServerResponse,
  next: Next,
) {
  const { body } = request;
  if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
    return next(new BadRequestException(['body must be a JSON object']));
  }
  next();
}
