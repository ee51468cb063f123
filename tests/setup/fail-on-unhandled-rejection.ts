/**
 * Any unhandled promise rejection during the suite fails it: the engine must never leave a
 * rejected promise unobserved (a timed-out step's late failure, a cancelled run's steps, …).
 */
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => {
  unhandled.push(reason);
};

beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});

afterEach(async () => {
  // Let rejections from the test's last ticks surface before checking.
  await new Promise((resolve) => setImmediate(resolve));
  if (unhandled.length > 0) {
    const reasons = unhandled.splice(0);
    throw new Error(`Unhandled promise rejection(s) during this test: ${reasons.map(String).join('; ')}`);
  }
});

afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});
