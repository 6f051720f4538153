/**
 * Argument validation with Node-style errors.
 *
 * Bad arguments must fail loudly and the same way everywhere: a `TypeError` with code
 * `ERR_INVALID_ARG_TYPE` for a wrong type and a `RangeError` with code `ERR_OUT_OF_RANGE`
 * for a value outside its range, each naming the argument, as Node's own APIs do.
 * @module
 */

/** A `TypeError` or `RangeError` carrying a Node-style `code`. */
export type CodedError<E extends Error> = E & { code: string };

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor;
    return ctor && ctor.name ? `an instance of ${ctor.name}` : 'an object';
  }
  if (typeof value === 'string') {
    const s = value.length > 28 ? `${value.slice(0, 25)}...` : value;
    return `type string ('${s}')`;
  }
  return `type ${typeof value} (${String(value)})`;
}

/** `TypeError` (code `ERR_INVALID_ARG_TYPE`): argument `name` must be `expected`. */
export function invalidArgType(name: string, expected: string, actual: unknown): CodedError<TypeError> {
  const err = new TypeError(
    `The "${name}" argument must be ${expected}. Received ${describe(actual)}`,
  ) as CodedError<TypeError>;
  err.code = 'ERR_INVALID_ARG_TYPE';
  return err;
}

/** `RangeError` (code `ERR_OUT_OF_RANGE`): argument `name` must satisfy `range`. */
export function outOfRange(name: string, range: string, actual: unknown): CodedError<RangeError> {
  const err = new RangeError(
    `The value of "${name}" is out of range. It must be ${range}. Received ${String(actual)}`,
  ) as CodedError<RangeError>;
  err.code = 'ERR_OUT_OF_RANGE';
  return err;
}

/** Validates an integer in `[min, max]`; returns it. */
export function validateInteger(
  value: unknown,
  name: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, `an integer >= ${min} and <= ${max}`, value);
  }
  return value;
}

/** Validates a finite number of milliseconds `>= 0`; returns it. */
export function validateMs(value: unknown, name: string): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw outOfRange(name, 'a finite number >= 0', value);
  }
  return value;
}

/** Validates a function argument; returns it. */
export function validateFunction<F extends (...args: never[]) => unknown>(value: unknown, name: string): F {
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value);
  return value as F;
}
