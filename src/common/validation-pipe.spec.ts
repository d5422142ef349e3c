import { BadRequestException, type ValidationError } from '@nestjs/common';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AppendMessagesDto } from '../conversations/dto/append-messages.dto';
import { CreateConversationDto } from '../conversations/dto/create-conversation.dto';
import { ReadMessagesQuery } from '../conversations/dto/read-messages.query';
import { CacheEmbeddingDto } from '../embeddings/dto/cache-embedding.dto';
import { EmbedTextsDto } from '../embeddings/dto/embed-texts.dto';
import { TextDto } from '../embeddings/dto/text.dto';
import { describeValidationErrors, RULE_ORDER, strictValidationPipe } from './validation-pipe';

type Class = abstract new (...args: never[]) => unknown;

/** Every class exported from a `dto` folder of the demo. */
async function allDtoClasses(): Promise<Class[]> {
  const src = join(__dirname, '..');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((file) =>
    /(^|\/)dto\/[^/]+(?<!\.spec)\.ts$/.test(file),
  );
  const modules = await Promise.all(files.map((file) => import(join(src, file)) as Promise<Record<string, unknown>>));
  return modules
    .flatMap((exports) => Object.values(exports))
    .filter((value): value is Class => typeof value === 'function');
}

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

  it('tells one rule per field, the first in RULE_ORDER, whatever order class-validator recorded them in', () => {
    const errors = [
      error('last', {
        max: 'last must not be greater than 10000',
        min: 'last must not be less than 1',
        isInt: 'last must be an integer number',
      }),
      error('title', {
        maxLength: 'title must be shorter than or equal to 200 characters',
        isString: 'title must be a string',
      }),
      error('text', { isCustom: 'text is custom', maxLength: 'text must be shorter than or equal to 9 characters' }),
    ];
    expect(describeValidationErrors(errors)).toEqual([
      'last must be an integer number',
      'title must be a string',
      'text must be shorter than or equal to 9 characters',
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

describe('strictValidationPipe', () => {
  async function refusal(metatype: new () => object, value: unknown, type: 'body' | 'query' = 'body') {
    const error: unknown = await strictValidationPipe()
      .transform(value, { type, metatype })
      .catch((refused: unknown) => refused);
    expect(error).toBeInstanceOf(BadRequestException);
    return ((error as BadRequestException).getResponse() as { message: string[] }).message;
  }

  it("tells each field's first broken rule as the DTO declares it, for stacked decorators and composed ones", async () => {
    expect(await refusal(ReadMessagesQuery, { last: 'abc' }, 'query')).toEqual(['last must be an integer number']);
    expect(await refusal(ReadMessagesQuery, { last: '0' }, 'query')).toEqual(['last must not be less than 1']);
    expect(await refusal(CreateConversationDto, { title: [[1]] })).toEqual(['title must be a string']);
    expect(await refusal(AppendMessagesDto, { messages: 'x' })).toEqual(['messages must be an array']);
    expect(await refusal(TextDto, { text: 7 })).toEqual(['text must be a string']);
    expect(await refusal(EmbedTextsDto, { texts: [1] })).toEqual(['texts: each value in texts must be a string']);
    expect(await refusal(CacheEmbeddingDto, { text: 't', embedding: ['a'] })).toEqual([
      'embedding: each value in embedding must be a number conforming to the specified constraints',
    ]);
  });

  it('ranks exactly the rules the DTOs use', async () => {
    const storage = getMetadataStorage();
    const rules = (await allDtoClasses())
      .flatMap((dto) => storage.getTargetValidationMetadatas(dto, '', true, false))
      .flatMap((metadata) => {
        if (metadata.type === ValidationTypes.NESTED_VALIDATION) return ['nestedValidation'];
        if (metadata.type !== ValidationTypes.CUSTOM_VALIDATION) return [];
        return storage.getTargetValidatorConstraints(metadata.constraintCls).map((constraint) => constraint.name);
      });
    expect([...new Set(rules)].sort()).toEqual([...RULE_ORDER].sort());
  });
});
