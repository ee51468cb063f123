import { ConversationState, ConversationStatus, FastroAIError, OutputNotStorableError, StepUsage } from 'fastroai';
import { decodeValue } from '../../src/store/decode-value';
import { encodeValue } from '../../src/store/encode-value';
import { thrownBy } from '../support/async-helpers';

function roundTrip<T>(value: T): T {
  return decodeValue(encodeValue(value)) as T;
}

class Entity {
  constructor(readonly id: number) {}
}

describe('encodeValue and decodeValue', () => {
  describe('round-trips', () => {
    it('keeps plain JSON as plain JSON text', () => {
      const value = { a: 1, b: ['x', true, null, { c: 2.5 }], d: '' };
      expect(encodeValue(value)).toBe(JSON.stringify(value));
      expect(roundTrip(value)).toStrictEqual(value);
    });

    it('round-trips a Date, including an invalid one', () => {
      const date = new Date('2024-05-06T07:08:09.123Z');
      const back = roundTrip({ at: date });
      expect(back.at).toBeInstanceOf(Date);
      expect(back.at.getTime()).toBe(date.getTime());
      expect(Number.isNaN(roundTrip(new Date(Number.NaN)).getTime())).toBe(true);
    });

    it("round-trips a Date under a test runner's fake timers, made before or during them (their Date is a subclass)", () => {
      const before = new Date('2024-05-06T07:08:09.123Z');
      jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
      let during: Date;
      try {
        during = new Date();
        expect(roundTrip({ before }).before.getTime()).toBe(before.getTime());
      } finally {
        jest.useRealTimers();
      }
      expect(roundTrip({ during }).during.getTime()).toBe(Date.parse('2030-01-01T00:00:00Z'));
    });

    it('round-trips a Map with non-string keys and tagged values', () => {
      const map = new Map<unknown, unknown>([
        [1, 'one'],
        ['two', new Date(2)],
        [{ k: 3 }, new Set([3n])],
      ]);
      const back = roundTrip(map);
      expect(back).toBeInstanceOf(Map);
      expect(back).toStrictEqual(map);
      expect([...back.keys()][2]).toStrictEqual({ k: 3 });
    });

    it('round-trips a Set', () => {
      const set = new Set([1, 'a', undefined, new Date(5)]);
      const back = roundTrip(set);
      expect(back).toBeInstanceOf(Set);
      expect(back).toStrictEqual(set);
    });

    it('round-trips a BigInt beyond 2^53', () => {
      const big = 2n ** 80n + 1n;
      expect(roundTrip({ big })).toStrictEqual({ big });
      expect(roundTrip(-5n)).toBe(-5n);
    });

    it('round-trips undefined in objects, in arrays and at the top', () => {
      const value = { a: undefined, list: [1, undefined, 3] };
      const back = roundTrip(value);
      expect(back).toStrictEqual(value);
      expect(Object.hasOwn(back, 'a')).toBe(true);
      expect(back.list).toHaveLength(3);
      expect(roundTrip(undefined)).toBeUndefined();
    });

    it('stores undefined at the top as it stores it inside a value (one tag, one form)', () => {
      expect(encodeValue(undefined)).toBe(encodeValue([undefined]).slice(1, -1));
    });

    it('round-trips NaN, Infinity, -Infinity and -0', () => {
      const back = roundTrip([Number.NaN, Infinity, -Infinity, -0, 0]);
      expect(back[0]).toBeNaN();
      expect(back[1]).toBe(Infinity);
      expect(back[2]).toBe(-Infinity);
      expect(Object.is(back[3], -0)).toBe(true);
      expect(Object.is(back[4], 0)).toBe(true);
    });

    it('round-trips a step output that is a bare primitive, special numbers included', () => {
      for (const value of ['text', '', 'a "quoted"\n line', 42, 2.5, -3.25, 0.1 + 0.2, 1e21, -1.5e-7, Number.MAX_VALUE, Number.MIN_VALUE, true, false, null, 12345678901234]) {
        expect(encodeValue(value)).toBe(JSON.stringify(value));
        expect(roundTrip(value)).toBe(value);
      }
      expect(roundTrip(Number.NaN)).toBeNaN();
      expect(roundTrip(Infinity)).toBe(Infinity);
      expect(roundTrip(-Infinity)).toBe(-Infinity);
      expect(Object.is(roundTrip(-0), -0)).toBe(true);
      expect(() => encodeValue(Symbol('s'), 'extract')).toThrow(OutputNotStorableError);
    });

    it('gives a built-in error back as its class, and any error back with its own fields (a user subclass as an Error with its name)', () => {
      class HttpError extends Error {
        override name = 'HttpError';
        constructor(
          message: string,
          readonly status: number,
          readonly body: { retryAt: Date },
        ) {
          super(message);
        }
      }
      const at = new Date(1_700_000_000_000);
      const back = roundTrip({ type: Object.assign(new TypeError('bad input'), { field: 'x' }), http: new HttpError('not found', 404, { retryAt: at }) });
      expect(back.type).toBeInstanceOf(TypeError);
      expect(back.type).toMatchObject({ name: 'TypeError', message: 'bad input', field: 'x' });
      expect(back.http).toBeInstanceOf(Error);
      expect(back.http).toMatchObject({ name: 'HttpError', message: 'not found', status: 404 });
      expect((back.http as unknown as { body: { retryAt: Date } }).body.retryAt).toEqual(at);
    });

    it('round-trips an Error with its name, message, code, stack and cause', () => {
      const cause = new TypeError('inner');
      const error = Object.assign(new Error('outer', { cause }), { code: 'E_OUTER' });
      const back = roundTrip({ error }).error as Error & { code?: string };
      expect(back).toBeInstanceOf(Error);
      expect(back.message).toBe('outer');
      expect(back.code).toBe('E_OUTER');
      expect(back.stack).toBe(error.stack);
      expect(back.cause).toBeInstanceOf(Error);
      expect((back.cause as Error).name).toBe('TypeError');
      expect((back.cause as Error).message).toBe('inner');
    });

    it('keeps the name and stable code of a fastroai error', () => {
      const back = roundTrip(new OutputNotStorableError('s', '$.x', 'is a function')) as Error & { code: string };
      expect(back.name).toBe('OutputNotStorableError');
      expect(back.code).toBe('fastroai:output-not-storable');
    });

    it('round-trips a Uint8Array as a Uint8Array and a Buffer as a Buffer', () => {
      const bytes = new Uint8Array([0, 1, 254, 255]);
      const buffer = Buffer.from('héllo');
      const back = roundTrip({ bytes, buffer });
      expect(Buffer.isBuffer(back.bytes)).toBe(false);
      expect(back.bytes).toBeInstanceOf(Uint8Array);
      expect([...back.bytes]).toEqual([0, 1, 254, 255]);
      expect(Buffer.isBuffer(back.buffer)).toBe(true);
      expect(back.buffer.toString()).toBe('héllo');
    });

    it('round-trips a ConversationState with tagged data and context', () => {
      const state = new ConversationState({
        status: ConversationStatus.INCOMPLETE,
        data: { when: new Date(7), guests: new Set(['ann']) },
        context: { missing: ['email'], asked: 2n },
      });
      const back = roundTrip(state);
      expect(back).toBeInstanceOf(ConversationState);
      expect(back.status).toBe(ConversationStatus.INCOMPLETE);
      expect(back).toStrictEqual(state);
    });

    it('round-trips a StepUsage', () => {
      const usage = new StepUsage({ inputTokens: 10, outputTokens: 5, costMicrocents: 1234, model: 'gpt-4o' });
      const back = roundTrip({ usage }).usage;
      expect(back).toBeInstanceOf(StepUsage);
      expect(back).toStrictEqual(usage);
      expect(back.add(usage).costMicrocents).toBe(2468);
    });

    it('round-trips tags nested in tags', () => {
      const value = { byDay: new Map([['mon', [{ at: new Date(1), tags: new Set([1n, undefined]) }]]]) };
      expect(roundTrip(value)).toStrictEqual(value);
    });

    it('stores a value reached twice (not a cycle) twice', () => {
      const shared = { x: 1 };
      expect(roundTrip({ a: shared, b: [shared] })).toStrictEqual({ a: { x: 1 }, b: [{ x: 1 }] });
    });

    it('round-trips a plain object whose keys look like a tag', () => {
      const value = { $t: 'Date', v: 'not a date', inner: { $t: 'Error', v: { name: 'x' } } };
      const back = roundTrip(value);
      expect(back).toStrictEqual(value);
      expect(back.inner).not.toBeInstanceOf(Error);
      expect(roundTrip([{ $t: 'undefined' }])).toStrictEqual([{ $t: 'undefined' }]);
    });
  });

  it('refuses a value nested more than 1,000 objects deep, naming its path (deeper, the encoder overflowed the stack with a RangeError)', () => {
    const nested = (depth: number) => {
      let value: unknown = { leaf: undefined };
      for (let level = 1; level < depth; level++) value = { a: value };
      return value;
    };
    expect(decodeValue(encodeValue(nested(1_000), 's'))).toEqual(nested(1_000));
    const error = thrownBy(() => encodeValue(nested(10_000), 's'));
    expect(OutputNotStorableError.isInstance(error)).toBe(true);
    expect((error as OutputNotStorableError).path).toBe(`$${'.a'.repeat(1_000)}`);
    expect((error as Error).message).toMatch(/ is nested more than 1000 objects deep$/);
  });

  it('never writes a "__proto__" key, and gives an own __proto__ property back as one', () => {
    const value = JSON.parse('{"a":{"__proto__":{"polluted":true},"b":1}}') as { a: Record<string, unknown> };
    const text = encodeValue(value);
    expect(text).not.toMatch(/"__proto__"\s*:/);
    const back = decodeValue(text) as { a: Record<string, unknown> };
    expect(Object.getPrototypeOf(back.a)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back.a, '__proto__')?.value).toStrictEqual({ polluted: true });
    expect(back).toStrictEqual(value);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  describe('values that cannot be stored', () => {
    function problemOf(value: unknown, stepId?: string): OutputNotStorableError {
      try {
        encodeValue(value, stepId);
      } catch (error) {
        if (OutputNotStorableError.isInstance(error)) return error;
        throw error;
      }
      throw new Error('encodeValue did not throw');
    }

    it('names the path of a class instance and the class', () => {
      const error = problemOf({ entities: [new Entity(1), new Entity(2)].map((entity, index) => (index === 1 ? entity : { id: 1 })) }, 'extract');
      expect(error.path).toBe('$.entities[1]');
      expect(error.stepId).toBe('extract');
      expect(error.message).toBe("The output of step 'extract' cannot be stored: $.entities[1] is an instance of Entity");
    });

    it('names the path of a function', () => {
      const error = problemOf({ a: { b: () => 1 } });
      expect(error.message).toBe('The run input cannot be stored: $.a.b is a function');
      expect(error.stepId).toBeUndefined();
    });

    it('names the path of a symbol, quoting keys that are not identifiers', () => {
      expect(problemOf({ 'odd key': [Symbol('s')] }).path).toBe('$["odd key"][0]');
    });

    it('names the path of a cycle', () => {
      const value: Record<string, unknown> = { x: {} };
      (value.x as Record<string, unknown>).back = value;
      expect(problemOf(value).message).toMatch(/\$\.x\.back is a cycle$/);
      const list: unknown[] = [];
      list.push({ again: list });
      expect(problemOf({ list }).path).toBe('$.list[0].again');
    });

    it('finds a problem deeper than the fast check goes', () => {
      let value: Record<string, unknown> = { f: () => 1 };
      for (let depth = 0; depth < 300; depth++) value = { n: value };
      expect(problemOf(value).path).toBe(`$${'.n'.repeat(300)}.f`);
    });

    it('names paths inside a Map, a Set, a ConversationState and an Error cause', () => {
      expect(problemOf({ m: new Map([['k', new Entity(1)]]) }).path).toBe('$.m.get("k")');
      expect(problemOf({ s: new Set([1, new Entity(1)]) }).path).toBe('$.s.values[1]');
      expect(problemOf(new ConversationState({ status: ConversationStatus.COMPLETE, data: { f: Math.max } })).path).toBe('$.data.f');
      expect(problemOf(new Error('x', { cause: new Entity(1) })).path).toBe('$.cause');
    });

    it('refuses typed arrays other than Uint8Array, and class instances of built-ins', () => {
      expect(problemOf({ floats: new Float32Array(2) }).message).toMatch(/\$\.floats is an instance of Float32Array/);
      expect(problemOf({ re: /x/ }).message).toMatch(/\$\.re is an instance of RegExp/);
    });

    it('refuses a subclass of Map or Set (it would come back as its base class after a resume)', () => {
      class Money extends Map<string, number> {}
      class Tags extends Set<string> {}
      expect(problemOf({ price: new Money([['EUR', 5]]) }).message).toMatch(/\$\.price is an instance of Money$/);
      expect(problemOf({ tags: new Tags(['a']) }).message).toMatch(/\$\.tags is an instance of Tags$/);
    });
  });

  describe('decoding stored JSON written by hand', () => {
    afterEach(() => {
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('keeps "__proto__" an own property and never sets the prototype', () => {
      const text = '{"a":1,"__proto__":{"polluted":true,"x":{"$t":"undefined"}}}';
      const back = decodeValue(text) as Record<string, unknown>;
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(back.polluted).toBeUndefined();
      expect(Object.hasOwn(back, '__proto__')).toBe(true);
      expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toStrictEqual({ polluted: true, x: undefined });
    });

    it('does not let an escaped object set the prototype', () => {
      const text = '{"$t":"Object","v":[["__proto__",{"polluted":true}],["$t","kept"]]}';
      const back = decodeValue(text) as Record<string, unknown>;
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(back.polluted).toBeUndefined();
      expect(Object.keys(back)).toEqual(['__proto__', '$t']);
    });

    it('builds tagged values from their named fields only', () => {
      const error = decodeValue('{"$t":"Error","v":{"message":"m","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}') as Error;
      expect(Object.getPrototypeOf(error)).toBe(Error.prototype);
      expect(error.message).toBe('m');
      const usage = decodeValue('{"$t":"StepUsage","v":{"inputTokens":3,"__proto__":{"polluted":true},"model":{"x":1}}}') as StepUsage;
      expect(Object.getPrototypeOf(usage)).toBe(StepUsage.prototype);
      expect(usage.inputTokens).toBe(3);
      expect(usage.model).toBeUndefined();
      const map = decodeValue('{"$t":"Map","v":[["__proto__",{"polluted":true}]]}') as Map<string, unknown>;
      expect(map.get('__proto__')).toStrictEqual({ polluted: true });
    });

    it('rejects an unknown or malformed tag instead of guessing', () => {
      expect(() => decodeValue('{"$t":"constructor","v":{}}')).toThrow(/unknown tag "constructor"/);
      expect(() => decodeValue('{"$t":"Map","v":{"length":1}}')).toThrow(/malformed Map tag/);
      expect(() => decodeValue('{"$t":"Number","v":"12"}')).toThrow(FastroAIError);
    });

    it('rejects text that is not JSON', () => {
      expect(() => decodeValue('{not json')).toThrow(/not JSON/);
    });
  });
});
