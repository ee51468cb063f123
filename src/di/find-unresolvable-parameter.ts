import { missingTsconfigFlag, type DecoratorFlag } from './missing-tsconfig-flag';
import { readConstructorParameters } from './read-constructor-parameters';

/** Why a constructor parameter cannot be injected. */
export type UnresolvableReason =
  /** A string or symbol token nobody registered. */
  | 'unregistered'
  /** The emitted type is `Object`: an interface, a union or a type-only import. It needs `@inject(TOKEN)`. */
  | 'untyped'
  /** The emitted type is `undefined`: the class was not defined yet when this one was decorated (a circular import). */
  | 'undefined'
  /** A class with constructor parameters but no type information (no `@Step`/`@injectable`), and not registered. */
  | 'not-injectable'
  /** A `@Step` class compiled without a tsconfig flag its decorators need (`flag` names it). */
  | 'missing-tsconfig-flag';

/** The first parameter that cannot be injected, found by {@link findUnresolvableParameter}. */
export interface UnresolvableParameter {
  /** The classes from the step class down to the one whose parameter fails. */
  readonly path: readonly Function[];
  /** Position of the parameter in the last class's constructor (-1 when the class itself is not injectable). */
  readonly index: number;
  readonly token: unknown;
  readonly reason: UnresolvableReason;
  /** The missing flag, for `missing-tsconfig-flag`. */
  readonly flag?: DecoratorFlag;
}

/** Constructors tsyringe cannot build without type information (their `length` is > 0). */
const BUILT_INS: ReadonlySet<unknown> = new Set([Object, String, Number, Boolean, Array, Function, Symbol, BigInt]);

/**
 * Walks a class's constructor parameters the way tsyringe resolves them and returns the first
 * one that cannot be injected; undefined when all can. Registered tokens are not looked
 * into (a registration may be a value or a factory); unregistered classes are, recursively.
 *
 * @param isRegistered whether the container (or a parent) has a registration for a token
 * @param depth how many classes deep to look (1: only the class's own parameters)
 */
export function findUnresolvableParameter(
  ctor: Function,
  isRegistered: (token: unknown) => boolean,
  depth = Infinity,
): UnresolvableParameter | undefined {
  return walk([ctor], isRegistered, depth, new Set());
}

function walk(path: Function[], isRegistered: (token: unknown) => boolean, depth: number, seen: Set<Function>): UnresolvableParameter | undefined {
  const ctor = path[path.length - 1];
  if (seen.has(ctor)) return undefined;
  seen.add(ctor);
  const flag = missingTsconfigFlag(ctor);
  if (flag !== undefined) return { path, index: -1, token: ctor, reason: 'missing-tsconfig-flag', flag };
  const params = readConstructorParameters(ctor);
  if (params === undefined) {
    return ctor.length > 0 ? { path, index: -1, token: ctor, reason: 'not-injectable' } : undefined;
  }
  for (const { index, token, optional } of params) {
    if (typeof token === 'string' || typeof token === 'symbol') {
      if (!optional && !isRegistered(token)) return { path, index, token, reason: 'unregistered' };
      continue;
    }
    if (token === undefined || token === null) return { path, index, token, reason: 'undefined' };
    if (typeof token !== 'function' || isRegistered(token)) continue; // a registration, or delay(() => C)
    if (token === Object) return { path, index, token, reason: 'untyped' };
    if (BUILT_INS.has(token)) return { path, index, token, reason: 'untyped' };
    if (path.length < depth) {
      const found = walk([...path, token], isRegistered, depth, seen);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
