import { ApiProperty } from '@nestjs/swagger';

/** The body of every error answer (Nest's standard shape). */
export class ErrorResponse {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({
    description: 'What was wrong; for a validation error, one line per problem, each naming the field.',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['messages.0.role must be one of the following values: user, assistant, system, tool'],
  })
  message!: string | string[];

  @ApiProperty({ example: 'Bad Request' })
  error!: string;
}
