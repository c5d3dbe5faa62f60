import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsObject, ValidateBy, ValidateNested, type ValidationOptions } from 'class-validator';
import { offsetTimeProblem } from '@trace/trace-chain';

/**
 * A nested DTO field (`each`: an array of them). class-validator's own
 * `@ValidateNested` lets `undefined`, `[]` and arrays in place of an object
 * through to the handler, which then fails on a missing property (a 500):
 * the field must be a plain object, named by its path when it is not.
 */
export function Nested(type: () => new () => object, opts: { each?: boolean } = {}): PropertyDecorator {
  const each = opts.each ?? false;
  return applyDecorators(
    IsObject({ each, message: each ? '$property must hold objects only' : '$property must be an object' }),
    ValidateNested({ each }),
    Type(type),
  );
}

/**
 * An RFC 3339 date-time with an explicit UTC offset (the rule is
 * `parseOffsetTime` in trace-chain); the message says what is wrong, e.g.
 * that `2026-12-05 07:00` has no offset.
 */
export function IsOffsetTime(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isOffsetTime',
      validator: {
        validate: (value: unknown) => offsetTimeProblem(value) === undefined,
        defaultMessage: (args) => `${args?.property} ${offsetTimeProblem(args?.value)}`,
      },
    },
    options,
  );
}
