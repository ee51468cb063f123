import type { UnresolvableParameter } from './find-unresolvable-parameter';

/** A DI token as messages show it: `'name'`, `Symbol(Name)`, or a class's name. */
export function formatToken(token: unknown): string {
  if (typeof token === 'string') return `'${token}'`;
  if (typeof token === 'symbol') return token.toString();
  if (typeof token === 'function') return token.name === '' ? 'an anonymous class' : token.name;
  return String(token);
}

/** Says, for people, why a parameter cannot be injected and what to do. */
export function describeUnresolvableParameter(found: UnresolvableParameter): string {
  const owner = found.path[found.path.length - 1];
  const via = found.path.length > 1 ? ` (via ${found.path.map((ctor) => formatToken(ctor)).join(' → ')})` : '';
  const parameter = `${formatToken(owner)}'s constructor parameter #${found.index}`;
  switch (found.reason) {
    case 'unregistered':
      return `${parameter} needs the token ${formatToken(found.token)}, which is not registered in the pipeline's container or its parents${via}`;
    case 'untyped':
      return (
        `${parameter} has no injection token: its type is emitted as ${formatToken(found.token)} ` +
        `(an interface, a union or a type-only import); add @inject(TOKEN)${via}`
      );
    case 'undefined':
      return `${parameter} has no injection token: its type was undefined when ${formatToken(owner)} was decorated (a circular import?); use @inject(delay(() => Type)) or a token${via}`;
    case 'not-injectable':
      return (
        `${formatToken(owner)} has constructor parameters but no type information for tsyringe: ` +
        `add @Step() (for a step) or @injectable(), or register it in the container${via}`
      );
    case 'missing-tsconfig-flag':
      return found.flag === 'experimentalDecorators'
        ? `${formatToken(owner)} has @Step() and constructor parameters, but it was compiled without "experimentalDecorators": true, ` +
            `so TypeScript applied @Step as a standard (TC39) decorator and emitted no parameter types for DI: ` +
            `set "experimentalDecorators": true and "emitDecoratorMetadata": true in tsconfig.json${via}`
        : `${formatToken(owner)} has @Step() and constructor parameters, but it was compiled without "emitDecoratorMetadata": true, ` +
            `so TypeScript emitted no parameter types for DI: set "emitDecoratorMetadata": true in tsconfig.json ` +
            `(or give every parameter @inject(Token))${via}`;
  }
}
