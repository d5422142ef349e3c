import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsWellFormed } from '../../common/is-well-formed.decorator';
import { MAX_TITLE_LENGTH } from '../../common/limits';

export class CreateConversationDto {
  @ApiPropertyOptional({ maxLength: MAX_TITLE_LENGTH, example: 'Trip to Lisbon' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_TITLE_LENGTH)
  @IsWellFormed()
  title?: string;
}
