import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MESSAGE_ROLES, type MessageRole } from '../../common/limits';

export class ConversationResponse {
  @ApiProperty({ example: '3f1c2a9e-7b4d-4c1e-9a57-0d2f1b6e8c44' })
  id!: string;

  @ApiPropertyOptional({ example: 'Trip to Lisbon' })
  title?: string;

  @ApiProperty({ example: '2026-01-01T12:00:00.000Z' })
  createdAt!: string;
}

export class MessageResponse {
  @ApiProperty({ description: "The database's id; also the message's id in the cache.", example: 1 })
  id!: number;

  @ApiProperty({ enum: MESSAGE_ROLES, example: 'user' })
  role!: MessageRole;

  @ApiProperty({ example: 'What is the capital of Portugal?' })
  content!: string;

  @ApiPropertyOptional({ example: 'weather' })
  name?: string;

  @ApiProperty({ example: '2026-01-01T12:00:00.000Z' })
  createdAt!: string;
}

export class MessagesResponse {
  @ApiProperty({ type: [MessageResponse] })
  messages!: MessageResponse[];
}
