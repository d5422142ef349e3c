import { buildMessage, ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * A string without lone surrogates. SQLite stores text as UTF-8, where a lone
 * surrogate becomes U+FFFD, so such a string would read back different from what
 * the cache holds; and two texts differing only there would share an embedding key.
 */
export function IsWellFormed(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isWellFormed',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || value.isWellFormed(),
        defaultMessage: buildMessage(
          (eachPrefix) => `${eachPrefix}$property must be well-formed Unicode (it has a lone surrogate)`,
          options,
        ),
      },
    },
    options,
  );
}
