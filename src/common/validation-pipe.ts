import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';

/**
 * One line per problem, each starting with the full path of the field at fault
 * (`messages.1.role must be one of ...`). Nest's own flattening drops a field's
 * constraints when it also has nested errors, which turns `messages` given as an
 * object into errors about `messages.content`; this keeps both.
 */
export function describeValidationErrors(errors: ValidationError[], parentPath = ''): string[] {
  const lines = errors.flatMap((error) => {
    const path = parentPath ? `${parentPath}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => {
      // class-validator words a forbidden field as "property <name> should not exist"
      const subject = [`${error.property} `, `property ${error.property} `].find((start) => message.startsWith(start));
      return subject ? `${path} ${message.slice(subject.length)}` : `${path}: ${message}`;
    });
    return [...own, ...describeValidationErrors(error.children ?? [], path)];
  });
  return [...new Set(lines)];
}

/** Strict input: unknown fields are errors, values are converted to the DTO types, every problem is named. */
export function strictValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    exceptionFactory: (errors) => new BadRequestException(describeValidationErrors(errors)),
  });
}
