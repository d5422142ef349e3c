import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { CHAT_ROLES, ID_PATTERN, ID_PATTERN_MESSAGE, MAX_CHAT_MESSAGES, type ChatRole } from '../../common/limits';
import { MessageContentProperty, MessagesProperty } from '../../common/message-properties';

/** The tenant of a request that names none. */
export const DEFAULT_TENANT = 'demo';

export class ChatMessageInput {
  @ApiProperty({ enum: CHAT_ROLES, example: 'user' })
  @IsIn(CHAT_ROLES)
  role!: ChatRole;

  @MessageContentProperty('What does the response cache store?')
  content!: string;
}

export class ChatRequestDto {
  @MessagesProperty(
    ChatMessageInput,
    MAX_CHAT_MESSAGES,
    `The conversation so far, oldest first, and the question last: 1 to ${MAX_CHAT_MESSAGES} messages.`,
  )
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
