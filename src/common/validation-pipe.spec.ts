import type { ValidationError } from '@nestjs/common';
import { describeValidationErrors } from './validation-pipe';

function error(
  property: string,
  constraints: Record<string, string>,
  children: ValidationError[] = [],
): ValidationError {
  return { property, constraints, children };
}

describe('describeValidationErrors', () => {
  it('starts every line with the full path of the field, nested fields and array indexes included', () => {
    const errors = [
      error('messages', {}, [
        error('1', {}, [error('role', { isIn: 'role must be one of the following values: user' })]),
      ]),
      error('last', { isInt: 'last must be an integer number' }),
    ];
    expect(describeValidationErrors(errors)).toEqual([
      'messages.1.role must be one of the following values: user',
      'last must be an integer number',
    ]);
  });

  it("keeps a field's own problems when it also has nested ones", () => {
    const errors = [
      error('messages', { isArray: 'messages must be an array' }, [
        error('content', { isString: 'content must be a string' }),
      ]),
    ];
    expect(describeValidationErrors(errors)).toEqual([
      'messages must be an array',
      'messages.content must be a string',
    ]);
  });

  it('names a forbidden field by its path, and prefixes messages that do not start with the field name', () => {
    const errors = [
      error('force', { whitelistValidation: 'property force should not exist' }),
      error('texts', { isString: 'each value in texts must be a string' }),
    ];
    expect(describeValidationErrors(errors)).toEqual([
      'force should not exist',
      'texts: each value in texts must be a string',
    ]);
  });

  it('lists a repeated problem once', () => {
    const nested = 'each value in nested property messages must be either object or array';
    const errors = [
      error('messages', {}, [error('1', { nestedValidation: nested }), error('1', { nestedValidation: nested })]),
    ];
    expect(describeValidationErrors(errors)).toEqual([`messages.1: ${nested}`]);
  });
});
