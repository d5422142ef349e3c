import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsString, MaxLength } from 'class-validator';
import { IsWellFormed } from '../../common/is-well-formed.decorator';
import { MAX_TEXT_LENGTH, MAX_TEXTS_PER_EMBED } from '../../common/limits';
import { EncodingFormatProperty, type EncodingFormat } from './encoding-format';

export class EmbedTextsDto {
  @ApiProperty({
    description: `The texts to embed, 1 to ${MAX_TEXTS_PER_EMBED}, each at most ${MAX_TEXT_LENGTH} characters.`,
    type: [String],
    example: ['Hello world', 'How are you?'],
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(MAX_TEXTS_PER_EMBED)
  @IsString({ each: true })
  @MaxLength(MAX_TEXT_LENGTH, { each: true })
  @IsWellFormed({ each: true })
  texts!: string[];

  @EncodingFormatProperty()
  encoding_format?: EncodingFormat;
}
