/**
 * Compile-time assertions for the `*.test-d.ts` files, which `tsc --noEmit` checks as part of
 * `npm test` (jest does not run them: its testMatch is `*.test.ts`).
 */

/** True when A and B are the same type (`any` equals only `any`). */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when `Condition` is `true`: `assertType<Equal<typeof x, string[]>>()`. */
export function assertType<Condition extends true>(): Condition | void {}

/** Compiles only when `value` is assignable to `T`. */
export function expectType<T>(value: T): T {
  return value;
}
