import { applyDecorators } from '@nestjs/common';
import { ApiBadRequestResponse, ApiPayloadTooLargeResponse, ApiUnsupportedMediaTypeResponse } from '@nestjs/swagger';
import { ErrorResponse } from './error-response.dto';
import { JSON_MEDIA_TYPE } from './json-body';
import { MAX_JSON_DEPTH } from './limits';

/** The 400 of every route: a parameter, a field or the body it cannot use (json-body.ts, validation-pipe.ts). */
export function ApiInvalidInputResponse(): ClassDecorator {
  return ApiBadRequestResponse({
    description:
      'A parameter or field is invalid (the message has one line per field at fault, naming it), or the body ' +
      `cannot be read: malformed JSON, nested deeper than ${MAX_JSON_DEPTH} levels, not an object, or not ` +
      'decompressible as its Content-Encoding says.',
    type: ErrorResponse,
  });
}

/** The answers of a route that reads a JSON body, besides its 400 for a body it cannot use. */
export function ApiJsonBodyErrors(): MethodDecorator {
  return applyDecorators(
    ApiPayloadTooLargeResponse({ description: 'The body is over BODY_LIMIT_BYTES.', type: ErrorResponse }),
    ApiUnsupportedMediaTypeResponse({
      description:
        `The body is not sent as Content-Type: ${JSON_MEDIA_TYPE}, its charset is not Unicode (UTF-8, UTF-16, UTF-32), ` +
        'or its Content-Encoding is one the server does not decode (it decodes gzip, deflate and br, and zstd ' +
        'where Node has it).',
      type: ErrorResponse,
    }),
  );
}
