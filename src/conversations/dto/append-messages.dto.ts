import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { IsWellFormed } from '../../common/is-well-formed.decorator';
import {
  MAX_CONTENT_LENGTH,
  MAX_MESSAGES_PER_APPEND,
  MAX_NAME_LENGTH,
  MESSAGE_ROLES,
  type MessageRole,
} from '../../common/limits';

export class MessageInput {
  @ApiProperty({ enum: MESSAGE_ROLES, example: 'user' })
  @IsIn(MESSAGE_ROLES)
  role!: MessageRole;

  @ApiProperty({ maxLength: MAX_CONTENT_LENGTH, example: 'What is the capital of Portugal?' })
  @IsString()
  @MaxLength(MAX_CONTENT_LENGTH)
  @IsWellFormed()
  content!: string;

  @ApiPropertyOptional({
    description: 'Who wrote it, e.g. the tool or participant name.',
    maxLength: MAX_NAME_LENGTH,
    example: 'weather',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_NAME_LENGTH)
  @IsWellFormed()
  name?: string;
}

export class AppendMessagesDto {
  @ApiProperty({
    type: [MessageInput],
    description: `1 to ${MAX_MESSAGES_PER_APPEND} messages, stored in this order.`,
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(MAX_MESSAGES_PER_APPEND)
  @ValidateNested({ each: true })
  @Type(() => MessageInput)
  messages!: MessageInput[];
}
