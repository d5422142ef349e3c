import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { IsWellFormed } from '../../common/is-well-formed.decorator';
import {
  CHAT_ROLES,
  ID_PATTERN,
  ID_PATTERN_MESSAGE,
  MAX_CHAT_MESSAGES,
  MAX_CONTENT_LENGTH,
  type ChatRole,
} from '../../common/limits';

/** The tenant of a request that names none. */
export const DEFAULT_TENANT = 'demo';

export class ChatMessageInput {
  @ApiProperty({ enum: CHAT_ROLES, example: 'user' })
  @IsIn(CHAT_ROLES)
  role!: ChatRole;

  @ApiProperty({ maxLength: MAX_CONTENT_LENGTH, example: 'What does the response cache store?' })
  @IsString()
  @MaxLength(MAX_CONTENT_LENGTH)
  @IsWellFormed()
  content!: string;
}

export class ChatRequestDto {
  @ApiProperty({
    type: [ChatMessageInput],
    description: `The conversation so far, oldest first, and the question last: 1 to ${MAX_CHAT_MESSAGES} messages.`,
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(MAX_CHAT_MESSAGES)
  @ValidateNested({ each: true })
  @Type(() => ChatMessageInput)
  messages!: ChatMessageInput[];

  @ApiPropertyOptional({
    description:
      `Whose cached answers the request reads and fills (default \`${DEFAULT_TENANT}\`): an identical request of ` +
      'another tenant is a miss. A real app takes it from the caller it authenticated, not from the body.',
    pattern: ID_PATTERN.source,
    example: 'org-42',
  })
  @IsOptional()
  @Matches(ID_PATTERN, { message: ID_PATTERN_MESSAGE })
  tenant?: string;
}
