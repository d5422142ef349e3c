import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_LAST } from '../../common/limits';

export class ReadMessagesQuery {
  @ApiPropertyOptional({
    description: 'Return only the last N messages (1 to 10000). Omit it for all.',
    minimum: 1,
    maximum: MAX_LAST,
    example: 20,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_LAST)
  last?: number;
}
