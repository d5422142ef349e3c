import { ApiProperty } from '@nestjs/swagger';

/** The body of every error answer (Nest's standard shape), from a route, a guard or the reading of the body. */
export class ErrorResponse {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({
    description:
      'What was wrong: a sentence, or for invalid fields one line per field at fault, naming it and the first ' +
      'rule it breaks.',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['messages.0.role must be one of the following values: user, assistant, system, tool'],
  })
  message!: string | string[];

  @ApiProperty({ description: "The status's reason phrase.", example: 'Bad Request' })
  error!: string;
}
