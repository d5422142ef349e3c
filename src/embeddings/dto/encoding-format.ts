import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

/** How an answer gives its vectors, as in OpenAI's embeddings API. */
export const ENCODING_FORMATS = ['float', 'base64'] as const;
export type EncodingFormat = (typeof ENCODING_FORMATS)[number];

/** The optional `encoding_format` field of the bodies that ask for vectors. */
export function EncodingFormatProperty(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      description:
        'How the answer gives each vector: `float` (the default), a JSON array of numbers; or `base64`, the ' +
        "vector's float32 values as little-endian bytes, base64-encoded (about a quarter of the float answer's size, " +
        "and far less to parse), as in OpenAI's embeddings API. Both carry exactly the same float32 values.",
      enum: ENCODING_FORMATS,
      default: 'float',
    }),
    IsOptional(),
    IsIn(ENCODING_FORMATS),
  );
}
