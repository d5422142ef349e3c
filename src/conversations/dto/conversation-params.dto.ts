import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { ID_PATTERN, ID_PATTERN_MESSAGE } from '../../common/limits';

export class ConversationParams {
  @ApiProperty({
    description: 'The conversation id (POST /conversations returns one).',
    pattern: ID_PATTERN.source,
    example: '3f1c2a9e-7b4d-4c1e-9a57-0d2f1b6e8c44',
  })
  @Matches(ID_PATTERN, { message: ID_PATTERN_MESSAGE })
  id!: string;
}
