import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { IsWellFormed } from '../../common/is-well-formed.decorator';
import { MAX_TEXT_LENGTH } from '../../common/limits';

export class TextDto {
  @ApiProperty({ description: 'The text the embedding is for.', maxLength: MAX_TEXT_LENGTH, example: 'Hello world' })
  @IsString()
  @MaxLength(MAX_TEXT_LENGTH)
  @IsWellFormed()
  text!: string;
}
