import 'reflect-metadata';

/**
 * tsyringe's metadata key for `@inject`/`@injectAll` parameter tokens. tsyringe declares it
 * in `src/reflection-helpers.ts` (`INJECTION_TOKEN_METADATA_KEY`) but does not export it.
 */
const TSYRINGE_INJECTION_TOKENS_KEY = 'injectionTokens';

/** One constructor parameter as tsyringe resolves it. */
export interface ConstructorParameter {
  /** 0-based position. */
  readonly index: number;
  /** The token tsyringe resolves: the `@inject` token, else the emitted type (`Object` for an interface, `undefined` for a type not yet defined). */
  readonly token: unknown;
  /** `@inject(token, { isOptional: true })`. */
  readonly optional: boolean;
}

/**
 * The constructor parameters of a class as tsyringe sees them: `design:paramtypes` (emitted
 * by TypeScript for a decorated class) overridden by `@inject` tokens. Undefined when the
 * class has no type information (not decorated) — tsyringe can then only call `new C()`.
 *
 * Mirrors tsyringe's `getParamInfo` (src/reflection-helpers.ts).
 */
export function readConstructorParameters(ctor: Function): ConstructorParameter[] | undefined {
  const types = Reflect.getMetadata('design:paramtypes', ctor) as unknown[] | undefined;
  const injected = (Reflect.getOwnMetadata(TSYRINGE_INJECTION_TOKENS_KEY, ctor) ?? {}) as Record<string, unknown>;
  if (types === undefined && Object.keys(injected).length === 0) return undefined;
  const params: unknown[] = [...(types ?? [])];
  for (const [key, descriptor] of Object.entries(injected)) params[Number(key)] = descriptor;
  return Array.from(params, (param, index) => {
    if (isTokenDescriptor(param)) return { index, token: param.token, optional: param.isOptional === true };
    return { index, token: param, optional: false };
  });
}

function isTokenDescriptor(value: unknown): value is { token: unknown; isOptional?: boolean } {
  return typeof value === 'object' && value !== null && 'token' in value;
}
