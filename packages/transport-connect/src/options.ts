/**
 * The longest delay Node's timers keep. Node runs a longer one, and a NaN or negative one,
 * after 1 ms: a timeout out of range fires at once instead of failing where it was given.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A range of accepted values: above min (at least min when minClosed), at most max. */
export interface Range {
  min: number;
  max: number;
  minClosed?: boolean;
  /** Whole numbers only. */
  integer?: boolean;
}

/** What every timeout and interval option accepts. */
export const TIMER_MS: Range = { min: 0, max: MAX_TIMER_MS };

/**
 * checkRange returns value if it is a number in range; otherwise it throws a TypeError (not a
 * number) or a RangeError, both naming the option and the value given.
 */
export function checkRange(name: string, value: unknown, range: Range = TIMER_MS): number {
  const { min, max, minClosed = false, integer = false } = range;
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number, got ${typeof value}`);
  }
  // Written so that NaN fails every comparison and lands here too.
  if (!((minClosed ? value >= min : value > min) && value <= max)) {
    throw new RangeError(
      `${name} must be ${minClosed ? ">=" : ">"} ${min} and <= ${max}, got ${value}`,
    );
  }
  if (integer && !Number.isInteger(value)) {
    throw new RangeError(`${name} must be an integer, got ${value}`);
  }
  return value;
}
