import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsWellFormed } from '../../common/is-well-formed.decorator';
import { MAX_MESSAGES_PER_APPEND, MAX_NAME_LENGTH, MESSAGE_ROLES, type MessageRole } from '../../common/limits';
import { MessageContentProperty, MessagesProperty } from '../../common/message-properties';

export class MessageInput {
  @ApiProperty({ enum: MESSAGE_ROLES, example: 'user' })
  @IsIn(MESSAGE_ROLES)
  role!: MessageRole;

  @MessageContentProperty('What is the capital of Portugal?')
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
  @MessagesProperty(
    MessageInput,
    MAX_MESSAGES_PER_APPEND,
    `1 to ${MAX_MESSAGES_PER_APPEND} messages, stored in this order.`,
  )
  messages!: MessageInput[];
}
