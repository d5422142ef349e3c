import { ApiProperty } from '@nestjs/swagger';

/** One vector as `encoding_format` asks: float32 values as numbers, or their little-endian bytes in base64. */
const VECTOR_SCHEMA = {
  oneOf: [
    { type: 'array', items: { type: 'number' }, description: '`float` (the default): the float32 values.' },
    {
      type: 'string',
      format: 'byte',
      description: '`base64`: the float32 values as little-endian bytes, base64-encoded.',
    },
  ],
};

export class EmbeddingResponse {
  @ApiProperty({ ...VECTOR_SCHEMA, description: 'The cached vector, in the encoding_format asked for.' })
  embedding!: number[] | string;
}

export class EmbeddingsResponse {
  @ApiProperty({
    type: 'array',
    items: VECTOR_SCHEMA,
    description: 'One vector per text, in order, in the encoding_format asked for.',
  })
  embeddings!: (number[] | string)[];

  @ApiProperty({
    type: [Boolean],
    description: 'Per text: true when its vector came from the cache, false when it was computed for this request.',
    example: [true, false],
  })
  cached!: boolean[];
}
