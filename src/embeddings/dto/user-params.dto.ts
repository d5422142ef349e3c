import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { ID_PATTERN, ID_PATTERN_MESSAGE } from '../../common/limits';

export class UserParams {
  @ApiProperty({ description: 'The user whose cache this is.', pattern: ID_PATTERN.source, example: 'user-42' })
  @Matches(ID_PATTERN, { message: ID_PATTERN_MESSAGE })
  userId!: string;
}
