/**
 * Property test of the stored-value codec: `decodeValue(encodeValue(x))` equals `x` on generated
 * values mixing plain JSON with every tagged type, keys that look like tags or `__proto__`, and
 * the numbers JSON cannot hold.
 */
import { fc, test } from '@fast-check/jest';
import { ConversationState, ConversationStatus, StepUsage } from 'fastroai';
import { decodeValue } from '../../src/store/decode-value';
import { encodeValue } from '../../src/store/encode-value';

const leaf = fc.oneof(
  fc.boolean(),
  fc.double(),
  fc.integer(),
  fc.string(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  // Valid dates only: jest never counts two invalid Dates equal (the example tests cover them).
  fc.date({ noInvalidDate: true }),
  fc.uint8Array({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
  fc.record({ inputTokens: fc.nat(), costMicrocents: fc.nat(), model: fc.option(fc.string(), { nil: undefined }) }).map(
    (fields) => new StepUsage(fields),
  ),
  fc.tuple(fc.string(), fc.option(fc.string(), { nil: undefined })).map(([message, code]) => {
    const error = new Error(message);
    if (code !== undefined) Object.assign(error, { code });
    return error;
  }),
);

// Not 'constructor': jest's toStrictEqual compares `a.constructor === b.constructor`, which an own key defeats.
const key = fc.oneof(fc.constantFrom('$t', 'v', '__proto__', 'a b'), fc.string());

const anyValue = fc.anything({ key, values: [leaf], withMap: true, withSet: true, maxDepth: 4 });

const storable = fc.oneof(
  anyValue,
  fc
    .tuple(fc.constantFrom(ConversationStatus.COMPLETE, ConversationStatus.INCOMPLETE), anyValue, fc.dictionary(key, anyValue, { maxKeys: 3, noNullPrototype: true }))
    .map(([status, data, context]) => new ConversationState({ status, data, context })),
);

describe('the stored-value codec', () => {
  test.prop([storable], { numRuns: 500 })('decodes what it encodes to an equal value', (value) => {
    const text = encodeValue(value);
    expect(decodeValue(text)).toStrictEqual(value);
    // The stored form is stable: encoding the decoded value writes the same text.
    expect(encodeValue(decodeValue(text))).toBe(text);
  });
});
