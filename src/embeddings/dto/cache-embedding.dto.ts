import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsNumber, Max, Min } from 'class-validator';
import { FLOAT32_MAX, MAX_EMBEDDING_DIMENSIONS } from '../../common/limits';
import { TextProperty } from './text.dto';

export class CacheEmbeddingDto {
  @TextProperty()
  text!: string;

  @ApiProperty({
    description:
      'The vector: exactly EMBEDDING_DIMENSIONS finite numbers (default 384), each within the float32 range. Stored as float32.',
    type: [Number],
    example: [0.12, -0.03, 0.5],
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(MAX_EMBEDDING_DIMENSIONS)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  @Min(-FLOAT32_MAX, { each: true })
  @Max(FLOAT32_MAX, { each: true })
  embedding!: number[];
}
