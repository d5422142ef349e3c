import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { IsWellFormed } from '../../common/is-well-formed.decorator';
import { MAX_TEXT_LENGTH } from '../../common/limits';
import { EncodingFormatProperty, type EncodingFormat } from './encoding-format';

/** The `text` field of the bodies that name one text. */
export function TextProperty(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ description: 'The text the embedding is for.', maxLength: MAX_TEXT_LENGTH, example: 'Hello world' }),
    IsString(),
    MaxLength(MAX_TEXT_LENGTH),
    IsWellFormed(),
  );
}

/** The body of a lookup: the text, and how to encode its vector. */
export class TextDto {
  @TextProperty()
  text!: string;

  @EncodingFormatProperty()
  encoding_format?: EncodingFormat;
}
