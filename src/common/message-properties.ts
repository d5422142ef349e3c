import { applyDecorators, type Type as Class } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsObject, IsString, MaxLength, ValidateNested } from 'class-validator';
import { IsWellFormed } from './is-well-formed.decorator';
import { MAX_CONTENT_LENGTH } from './limits';

/** The `content` of a message, in every body that takes messages: text of at most MAX_CONTENT_LENGTH characters. */
export function MessageContentProperty(example: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ maxLength: MAX_CONTENT_LENGTH, example }),
    IsString(),
    MaxLength(MAX_CONTENT_LENGTH),
    IsWellFormed(),
  );
}

/** A body's `messages`: 1 to `max` messages of the class `message`, each validated as one. */
export function MessagesProperty(message: Class, max: number, description: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ type: [message], description }),
    IsArray(),
    ArrayNotEmpty(),
    ArrayMaxSize(max),
    // ValidateNested takes an array as a message (and validates nothing in an empty one): `[[]]` passed
    IsObject({ each: true }),
    ValidateNested({ each: true }),
    Type(() => message),
  );
}
