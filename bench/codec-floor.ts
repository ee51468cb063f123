/**
 * Micro-benchmark (not a test): µs per `encodeValue` / `decodeValue` of a ~1 KB plain object
 * against bare `JSON.stringify` / `JSON.parse`, and of the same object with a `Date` and a `Map`
 * (the tagging path). Run: `npx ts-node -T bench/codec-floor.ts`.
 */
import { decodeValue } from '../src/store/decode-value';
import { encodeValue } from '../src/store/encode-value';

function microsPerCall(iterations: number, work: () => unknown): number {
  for (let index = 0; index < iterations / 10; index++) work();
  const start = process.hrtime.bigint();
  for (let index = 0; index < iterations; index++) work();
  return Number(process.hrtime.bigint() - start) / 1000 / iterations;
}

const plain = {
  customer: { name: 'Ann Example', email: 'ann@example.com', phone: '+1 555 0100', vip: true },
  entities: Array.from({ length: 13 }, (_, index) => ({ id: index, kind: 'person', text: `entity number ${index}`, score: index / 10 })),
  summary: 'A booking request for two nights in the spring, with breakfast and a late checkout.',
  tags: ['booking', 'hotel', 'spring', 'breakfast'],
};
const tagged = { ...plain, at: new Date(0), seen: new Map([['a', 1]]) };
const bytes = JSON.stringify(plain).length;
const iterations = 200_000;

const rows: [string, number, number][] = [];
for (const [label, value] of [['plain', plain], ['tagged', tagged]] as const) {
  const text = encodeValue(value);
  const encode = microsPerCall(iterations, () => encodeValue(value));
  const stringify = microsPerCall(iterations, () => JSON.stringify(value));
  const decode = microsPerCall(iterations, () => decodeValue(text));
  const parse = microsPerCall(iterations, () => JSON.parse(text));
  rows.push([`encode ${label} (${bytes} B) vs JSON.stringify`, encode, stringify]);
  rows.push([`decode ${label} vs JSON.parse`, decode, parse]);
}
for (const [label, ours, floor] of rows) {
  console.log(`${label.padEnd(44)} ${ours.toFixed(2)} µs vs ${floor.toFixed(2)} µs  (${(ours / floor).toFixed(2)}×)`);
}
