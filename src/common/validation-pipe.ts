import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';

/**
 * The order in which a field's rules are told, the order in which the DTOs declare
 * them: what the value is, then how big it is, then what it holds. A value of the
 * wrong type breaks its bounds too (`?last=abc` is neither at least 1 nor at most
 * 10000), which says nothing more. class-validator records the rules a field broke
 * in the order it ran them, which is not the declared order (it runs stacked
 * decorators bottom up, and those of `applyDecorators` top down), and its
 * `stopAtFirstError` stops at the first it ran; hence this list. A rule not in it
 * comes after those that are.
 */
export const RULE_ORDER = [
  'isArray',
  'isString',
  'isNumber',
  'isInt',
  'isIn',
  'matches',
  'arrayNotEmpty',
  'arrayMaxSize',
  'maxLength',
  'min',
  'max',
  'isWellFormed',
  'isObject',
  'nestedValidation',
];

function rank(rule: string): number {
  const index = RULE_ORDER.indexOf(rule);
  return index === -1 ? RULE_ORDER.length : index;
}

/** The message of the first rule, in RULE_ORDER, that a field broke. */
function firstBroken(constraints: Record<string, string>): string | undefined {
  const rules = Object.keys(constraints);
  if (rules.length === 0) return undefined;
  return constraints[rules.reduce((first, rule) => (rank(rule) < rank(first) ? rule : first))];
}

/** The indices of the elements that are not objects, when the first rule an array broke is IsObject of each. */
function elementsNotObjects(error: ValidationError): number[] | undefined {
  const broken = Object.keys(error.constraints ?? {});
  if (!Array.isArray(error.value) || broken.length === 0) return undefined;
  if (broken.reduce((first, rule) => (rank(rule) < rank(first) ? rule : first)) !== 'isObject') return undefined;
  const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  return (error.value as unknown[]).flatMap((value, i) => (isObject(value) ? [] : [i]));
}

/**
 * One line per field at fault, for the first rule it broke, starting with the
 * field's full path (`messages.1.role must be one of ...`). Nest's own flattening
 * drops a field's constraints when it also has nested errors, which turns
 * `messages` given as an object into errors about `messages.content`; this keeps
 * both.
 */
export function describeValidationErrors(errors: ValidationError[], parentPath = ''): string[] {
  const lines = errors.flatMap((error) => {
    const path = parentPath ? `${parentPath}.${error.property}` : error.property;
    const elements = elementsNotObjects(error);
    if (elements) {
      // one line per element at fault, instead of the array's "each value" and ValidateNested's line for each
      const others = (error.children ?? []).filter((child) => !elements.includes(Number(child.property)));
      return [...elements.map((i) => `${path}.${i} must be an object`), ...describeValidationErrors(others, path)];
    }
    const message = firstBroken(error.constraints ?? {});
    const nested = describeValidationErrors(error.children ?? [], path);
    if (message === undefined) return nested;
    // class-validator words a forbidden field as "property <name> should not exist"
    const subject = [`${error.property} `, `property ${error.property} `].find((start) => message.startsWith(start));
    return [subject ? `${path} ${message.slice(subject.length)}` : `${path}: ${message}`, ...nested];
  });
  return [...new Set(lines)];
}

/** Strict input: unknown fields are errors, values are converted to the DTO types, every field at fault is named. */
export function strictValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    // the values stay on the errors, so that an array of messages can name the elements that are not objects
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => new BadRequestException(describeValidationErrors(errors)),
  });
}
