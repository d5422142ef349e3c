import { ApiProperty } from '@nestjs/swagger';

export class EmbeddingResponse {
  @ApiProperty({ type: [Number], description: 'The cached vector, as float32 values.' })
  embedding!: number[];
}

export class EmbeddingsResponse {
  @ApiProperty({
    type: 'array',
    items: { type: 'array', items: { type: 'number' } },
    description: 'One vector per text, in order.',
  })
  embeddings!: number[][];

  @ApiProperty({
    type: [Boolean],
    description: 'Per text: true when its vector came from the cache, false when it was computed for this request.',
    example: [true, false],
  })
  cached!: boolean[];
}
